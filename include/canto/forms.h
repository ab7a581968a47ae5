/**
 * @file canto/forms.h
 * @brief Data forms (XEP-0004): build, parse, fill in and submit `jabber:x:data` forms.
 *
 * A canto_form holds one form: its kind (form, submit, cancel, result), an
 * optional title and instructions, its fields and, for results that carry a
 * table, the `<reported/>` header and the `<item/>` rows. Forms are built with
 * canto_form_new() and the add functions, read from a received stanza with
 * canto_form_parse(), and written into a stanza with canto_form_to_stanza().
 * Filling in a received form and answering it is:
 *
 * @code
 *   canto_form *form, *answer;
 *   canto_form_parse(NULL, x, &form, NULL);
 *   canto_form_make_submit(form, &answer);          // values copied over
 *   canto_form_field_set_value(canto_form_get_field(answer, "botname"), "Joogle");
 *   canto_form_to_stanza(answer, command_element, NULL);
 * @endcode
 *
 * Fields:
 * - Every field except those of type "fixed" has a `var` that is unique among
 *   the fields of its list (the form's fields, the reported header, each item).
 * - Field types are those of XEP-0004 §3.3. A field received without a `type`
 *   attribute has type CANTO_FORM_FIELD_NONE (in forms of kind "form" that
 *   means text-single); a field with a type this library does not know is
 *   treated as text-single, as the XEP requires, and its type name is kept so
 *   that it is written back unchanged.
 * - Values are kept as strings, in order. Field types that the XEP limits to
 *   one value (boolean, fixed, jid-single, list-single, text-private,
 *   text-single) accept at most one.
 *
 * Limits (hostile input): at most CANTO_FORM_MAX_FIELDS fields in one list,
 * CANTO_FORM_MAX_VALUES values and CANTO_FORM_MAX_OPTIONS options per field,
 * CANTO_FORM_MAX_ITEMS items and CANTO_FORM_MAX_INSTRUCTIONS instructions.
 *
 * Ownership: canto_form_new(), canto_form_parse(), canto_form_copy() and
 * canto_form_make_submit() give the caller a form to free with
 * canto_form_free(). Fields (canto_form_field) and every string returned are
 * borrowed from their form: a field lives until the form is freed or the
 * field is removed; a string lives until the form is freed or that same
 * value is changed. Setters copy their strings.
 *
 * Threads: a form is used by one thread at a time (normally the client's loop
 * thread); distinct forms are independent. No function here calls back.
 *
 * Strings are NUL-terminated UTF-8.
 */
#ifndef CANTO_FORMS_H
#define CANTO_FORMS_H

#include <stddef.h>
#include <canto/export.h>
#include <canto/memory.h>
#include <canto/stanza.h>

CANTO_BEGIN_DECLS

/** Namespace of data forms. */
#define CANTO_NS_DATA_FORMS "jabber:x:data"

/** Most fields in one list (the form's fields, the reported header, one item). */
#define CANTO_FORM_MAX_FIELDS 512
/** Most values in one field. */
#define CANTO_FORM_MAX_VALUES 1024
/** Most options in one field. */
#define CANTO_FORM_MAX_OPTIONS 1024
/** Most `<item/>` rows in one form. */
#define CANTO_FORM_MAX_ITEMS 4096
/** Most `<instructions/>` elements in one form. */
#define CANTO_FORM_MAX_INSTRUCTIONS 64

/** A data form. Opaque. */
typedef struct canto_form canto_form;
/** One field of a form. Opaque; borrowed from its form. */
typedef struct canto_form_field canto_form_field;

/** The `type` attribute of the form (XEP-0004 §3.1). */
typedef enum canto_form_kind {
    CANTO_FORM_FORM = 1,   /**< "form": asks to fill in the fields. */
    CANTO_FORM_SUBMIT = 2, /**< "submit": the filled-in answer. */
    CANTO_FORM_CANCEL = 3, /**< "cancel": the submitter gave up. */
    CANTO_FORM_RESULT = 4, /**< "result": data returned (may have reported/items). */
} canto_form_kind;

/** Field types (XEP-0004 §3.3). */
typedef enum canto_form_field_type {
    CANTO_FORM_FIELD_NONE = 0,        /**< No `type` attribute. */
    CANTO_FORM_FIELD_BOOLEAN = 1,     /**< "boolean": "1"/"true" or "0"/"false". */
    CANTO_FORM_FIELD_FIXED = 2,       /**< "fixed": text to show, no input; `var` optional. */
    CANTO_FORM_FIELD_HIDDEN = 3,      /**< "hidden": returned unchanged; may have several values. */
    CANTO_FORM_FIELD_JID_MULTI = 4,   /**< "jid-multi": several JIDs. */
    CANTO_FORM_FIELD_JID_SINGLE = 5,  /**< "jid-single": one JID. */
    CANTO_FORM_FIELD_LIST_MULTI = 6,  /**< "list-multi": several of the options. */
    CANTO_FORM_FIELD_LIST_SINGLE = 7, /**< "list-single": one of the options. */
    CANTO_FORM_FIELD_TEXT_MULTI = 8,  /**< "text-multi": several lines, one value each. */
    CANTO_FORM_FIELD_TEXT_PRIVATE = 9, /**< "text-private": one line, shown obscured. */
    CANTO_FORM_FIELD_TEXT_SINGLE = 10, /**< "text-single": one line (also unknown types). */
} canto_form_field_type;

/** @return the XML name of a form kind ("submit", ...), or NULL if unknown. */
CANTO_EXPORT const char *canto_form_kind_name(canto_form_kind kind);
/** @return the XML name of a field type ("list-multi", ...); NULL for NONE or unknown. */
CANTO_EXPORT const char *canto_form_field_type_name(canto_form_field_type type);

/* ------------------------------------------------------------------------- */
/** @name Forms */
/**@{*/

/**
 * Create an empty form.
 * @param alloc allocator for the form and everything in it, or NULL for malloc.
 * @param kind the form's kind.
 * @param out receives the form; free it with canto_form_free().
 * @return 0, CANTO_EINVAL (NULL @p out, unknown kind, bad allocator), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_new(const canto_allocator *alloc, canto_form_kind kind,
                                canto_form **out);

/** Free a form with all its fields. NULL is allowed. */
CANTO_EXPORT void canto_form_free(canto_form *form);

/**
 * Deep-copy a form (with the same allocator).
 * @param out receives the copy; free it with canto_form_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_copy(const canto_form *form, canto_form **out);

/**
 * Read a form from an `<x xmlns='jabber:x:data'/>` element and check it.
 *
 * Refused as malformed (CANTO_EPROTO): a missing or unknown form type; more
 * than one `<title/>` or `<reported/>`; a field other than "fixed" without
 * `var`; a `var` used twice in one list; more than one value in a field type
 * that allows one; options in a field that is not a list, or an option
 * without exactly one `<value/>`; a boolean value other than 0, 1, true,
 * false; a value of a JID field that is not a valid JID (empty values are
 * allowed); `<item/>` rows without `<reported/>`, or with a field the header
 * does not name. Unknown child elements are ignored and not kept.
 *
 * @param alloc allocator for the new form, or NULL for malloc.
 * @param x the `<x/>` element; not kept.
 * @param out receives the form; free it with canto_form_free().
 * @param detail receives a static English sentence saying what was wrong when
 *        the result is CANTO_EPROTO or CANTO_ETOOBIG (may be NULL).
 * @return 0, CANTO_EINVAL (NULL argument, @p x is not a jabber:x:data `<x/>`),
 *         CANTO_EPROTO (malformed), CANTO_ETOOBIG (over a limit above),
 *         CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_parse(const canto_allocator *alloc, const canto_stanza *x,
                                  canto_form **out, const char **detail);

/**
 * Append the form to @p parent as an `<x xmlns='jabber:x:data'/>` child:
 * title, instructions, fields, then the reported header and the items.
 * @param x receives the new element (borrowed from @p parent's tree; may be NULL).
 * @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_to_stanza(const canto_form *form, canto_stanza *parent,
                                      canto_stanza **x);

/**
 * Make the answer to a form: a new form of kind "submit" with, for every
 * field of @p form that has a `var` and is not "fixed", a field with the same
 * var, the same type and the same values (hidden fields such as FORM_TYPE are
 * carried over, as XEP-0004 asks). Labels, descriptions, options and the
 * required flag are not copied. Fill in the copy, then send it.
 * @param submit receives the new form; free it with canto_form_free().
 * @return 0, CANTO_EINVAL, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_make_submit(const canto_form *form, canto_form **submit);

/** @return the form's kind, or 0 for NULL. */
CANTO_EXPORT canto_form_kind canto_form_get_kind(const canto_form *form);

/**
 * The FORM_TYPE of the form (XEP-0068): the first value of its field named
 * "FORM_TYPE" if that field is hidden or has no type.
 * @return borrowed string, or NULL if the form has none.
 */
CANTO_EXPORT const char *canto_form_type(const canto_form *form);

/** @return the title (borrowed), or NULL. */
CANTO_EXPORT const char *canto_form_title(const canto_form *form);
/** Set or clear (NULL) the title. @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM. */
CANTO_EXPORT int canto_form_set_title(canto_form *form, const char *title);

/** @return instructions number @p index (borrowed), or NULL past the end. */
CANTO_EXPORT const char *canto_form_instructions(const canto_form *form, size_t index);
/** Append one `<instructions/>` text. @return 0, CANTO_EINVAL, CANTO_EUTF8,
 *  CANTO_ETOOBIG, CANTO_ENOMEM. */
CANTO_EXPORT int canto_form_add_instructions(canto_form *form, const char *text);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name The form's fields */
/**@{*/

/**
 * Append a field.
 * @param type its type (CANTO_FORM_FIELD_NONE writes no `type` attribute).
 * @param var its name; required unless @p type is CANTO_FORM_FIELD_FIXED.
 * @param label human-readable label, or NULL.
 * @param field receives the new field (borrowed; may be NULL).
 * @return 0, CANTO_EINVAL (NULL form, unknown type, missing var, var already
 *         used in this form), CANTO_EUTF8, CANTO_ETOOBIG, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_add_field(canto_form *form, canto_form_field_type type, const char *var,
                                      const char *label, canto_form_field **field);

/** Remove the field named @p var; pointers to it become invalid.
 *  @return 0, CANTO_EINVAL, CANTO_ENOTFOUND. */
CANTO_EXPORT int canto_form_remove_field(canto_form *form, const char *var);

/** @return the field named @p var (borrowed), or NULL. */
CANTO_EXPORT canto_form_field *canto_form_get_field(const canto_form *form, const char *var);
/** @return how many fields the form has (not counting reported/items). */
CANTO_EXPORT size_t canto_form_field_count(const canto_form *form);
/** @return field number @p index in document order (borrowed), or NULL past the end. */
CANTO_EXPORT canto_form_field *canto_form_field_at(const canto_form *form, size_t index);

/**
 * First value of the field named @p var: a shortcut for reading results.
 * @return borrowed string, or NULL if there is no such field or it has no value.
 */
CANTO_EXPORT const char *canto_form_value(const canto_form *form, const char *var);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name One field */
/**@{*/

/** @return the field's type (see the file comment for NONE and unknown types). */
CANTO_EXPORT canto_form_field_type canto_form_field_get_type(const canto_form_field *field);
/** @return the `type` attribute as it will be written (borrowed; NULL for NONE). */
CANTO_EXPORT const char *canto_form_field_type_attr(const canto_form_field *field);
/** @return the field's `var` (borrowed), or NULL (fixed fields may lack one). */
CANTO_EXPORT const char *canto_form_field_var(const canto_form_field *field);
/** @return the field's label (borrowed), or NULL. */
CANTO_EXPORT const char *canto_form_field_label(const canto_form_field *field);
/** @return the field's `<desc/>` (borrowed), or NULL. */
CANTO_EXPORT const char *canto_form_field_desc(const canto_form_field *field);
/** @return 1 if the field has `<required/>`, else 0. */
CANTO_EXPORT int canto_form_field_required(const canto_form_field *field);

/** Set or clear (NULL) the label. @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM. */
CANTO_EXPORT int canto_form_field_set_label(canto_form_field *field, const char *label);
/** Set or clear (NULL) the description. @return 0, CANTO_EINVAL, CANTO_EUTF8, CANTO_ENOMEM. */
CANTO_EXPORT int canto_form_field_set_desc(canto_form_field *field, const char *desc);
/** Set (1) or clear (0) the required flag. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_form_field_set_required(canto_form_field *field, int required);

/** @return how many values the field has. */
CANTO_EXPORT size_t canto_form_field_value_count(const canto_form_field *field);
/** @return value number @p index (borrowed), or NULL past the end. */
CANTO_EXPORT const char *canto_form_field_value(const canto_form_field *field, size_t index);

/**
 * Replace all values with @p value (NULL: remove all values).
 * Values of boolean and JID fields are checked as canto_form_parse() does.
 * @return 0, CANTO_EINVAL (NULL field, bad boolean or JID), CANTO_EUTF8, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_field_set_value(canto_form_field *field, const char *value);

/**
 * Append a value.
 * @return 0, CANTO_EINVAL (NULL argument, a second value for a single-valued
 *         type, bad boolean or JID), CANTO_EUTF8, CANTO_ETOOBIG, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_field_add_value(canto_form_field *field, const char *value);

/** Remove all values. @return 0, CANTO_EINVAL. */
CANTO_EXPORT int canto_form_field_clear_values(canto_form_field *field);

/**
 * Read a boolean field's value: "1"/"true" give 1, "0"/"false" give 0, and a
 * field without a value gives 0 (XEP-0004's default).
 * @return 0, CANTO_EINVAL (NULL argument, or the value is none of those four).
 */
CANTO_EXPORT int canto_form_field_get_bool(const canto_form_field *field, int *value);

/** Set the value to "1" or "0". @return 0, CANTO_EINVAL, CANTO_ENOMEM. */
CANTO_EXPORT int canto_form_field_set_bool(canto_form_field *field, int value);

/** @return how many options the field has. */
CANTO_EXPORT size_t canto_form_field_option_count(const canto_form_field *field);

/**
 * Read option number @p index. Both pointers are borrowed; @p label may be
 * given NULL for an option without one.
 * @return 0, CANTO_EINVAL (NULL field or past the end).
 */
CANTO_EXPORT int canto_form_field_option(const canto_form_field *field, size_t index,
                                         const char **label, const char **value);

/**
 * Append an option to a list-single or list-multi field (or one without a type).
 * @param label its label, or NULL; @param value its value (required).
 * @return 0, CANTO_EINVAL (not a list field, NULL value), CANTO_EUTF8,
 *         CANTO_ETOOBIG, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_field_add_option(canto_form_field *field, const char *label,
                                             const char *value);

/**@}*/
/* ------------------------------------------------------------------------- */
/** @name Tables in results: the reported header and the items */
/**@{*/

/**
 * Append a column to the `<reported/>` header (created on first use).
 * @param field receives the new header field (borrowed; may be NULL).
 * @return as canto_form_add_field().
 */
CANTO_EXPORT int canto_form_add_reported(canto_form *form, canto_form_field_type type,
                                         const char *var, const char *label,
                                         canto_form_field **field);
/** @return 1 if the form has a `<reported/>` element, else 0. */
CANTO_EXPORT int canto_form_has_reported(const canto_form *form);
/** @return how many fields the reported header has. */
CANTO_EXPORT size_t canto_form_reported_count(const canto_form *form);
/** @return header field number @p index (borrowed), or NULL past the end. */
CANTO_EXPORT canto_form_field *canto_form_reported_at(const canto_form *form, size_t index);

/** @return how many `<item/>` rows the form has. */
CANTO_EXPORT size_t canto_form_item_count(const canto_form *form);

/**
 * Append an empty row. Rows need a reported header first.
 * @param index receives the row's index (may be NULL).
 * @return 0, CANTO_EINVAL (no header), CANTO_ETOOBIG, CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_add_item(canto_form *form, size_t *index);

/**
 * Append a cell to row @p item: a field named like a header column, with the
 * column's type.
 * @param field receives the new field (borrowed; may be NULL); fill in its value.
 * @return 0, CANTO_EINVAL (no such row, @p var not a header column or already
 *         in this row), CANTO_ENOMEM.
 */
CANTO_EXPORT int canto_form_item_add_field(canto_form *form, size_t item, const char *var,
                                           canto_form_field **field);

/** @return how many fields row @p item has (0 past the end). */
CANTO_EXPORT size_t canto_form_item_field_count(const canto_form *form, size_t item);
/** @return field number @p index of row @p item (borrowed), or NULL. */
CANTO_EXPORT canto_form_field *canto_form_item_field_at(const canto_form *form, size_t item,
                                                        size_t index);
/** @return the field named @p var in row @p item (borrowed), or NULL. */
CANTO_EXPORT canto_form_field *canto_form_item_field(const canto_form *form, size_t item,
                                                     const char *var);

/**@}*/

CANTO_END_DECLS

#endif
