/* Data forms (XEP-0004). Public API only: the form is a plain C model (lists of
 * fields with their values and options) that is read from and written to
 * canto_stanza trees. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <canto/error.h>
#include <canto/forms.h>
#include <canto/jid.h>

typedef struct form_option {
    char *label; /* may be NULL */
    char *value;
} form_option;

struct canto_form_field {
    canto_form *form;
    canto_form_field_type type;
    char *type_attr; /* the `type` attribute written back; NULL: none */
    int known;       /* the type attribute is one XEP-0004 defines */
    char *var;
    char *label;
    char *desc;
    int required;
    char **values;
    size_t nvalues, capvalues;
    form_option *options;
    size_t noptions, capoptions;
};

typedef struct field_list {
    canto_form_field **v;
    size_t n, cap;
} field_list;

struct canto_form {
    canto_allocator alloc;
    int custom_alloc;
    canto_form_kind kind;
    char *title;
    char **instr;
    size_t ninstr, capinstr;
    field_list fields;
    int has_reported;
    field_list reported;
    field_list *items;
    size_t nitems, capitems;
};

static const char *const kind_names[] = {NULL, "form", "submit", "cancel", "result"};

static const char *const type_names[] = {
    NULL,         "boolean",     "fixed",      "hidden",       "jid-multi",   "jid-single",
    "list-multi", "list-single", "text-multi", "text-private", "text-single",
};

#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *canto_form_kind_name(canto_form_kind kind)
{
    return kind >= CANTO_FORM_FORM && kind <= CANTO_FORM_RESULT ? kind_names[kind] : NULL;
}

const char *canto_form_field_type_name(canto_form_field_type type)
{
    return (size_t)type < NTYPES ? type_names[type] : NULL;
}

/* --- memory ---------------------------------------------------------------- */

static void *fm_alloc(const canto_form *f, size_t size)
{
    if (!size)
        size = 1;
    return f->custom_alloc ? f->alloc.alloc(f->alloc.user_data, size) : malloc(size);
}

static void *fm_realloc(const canto_form *f, void *p, size_t size)
{
    if (!size)
        size = 1;
    return f->custom_alloc ? f->alloc.realloc(f->alloc.user_data, p, size) : realloc(p, size);
}

static void fm_free(const canto_form *f, void *p)
{
    if (!p)
        return;
    if (f->custom_alloc)
        f->alloc.free(f->alloc.user_data, p);
    else
        free(p);
}

static char *fm_strdup(const canto_form *f, const char *s)
{
    size_t len = strlen(s);
    char *d = fm_alloc(f, len + 1);
    if (d)
        memcpy(d, s, len + 1);
    return d;
}

/* Grow an array of @p elem-sized entries to hold one more. */
static int fm_grow(const canto_form *f, void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap > SIZE_MAX / elem)
        return CANTO_ENOMEM;
    void *p = fm_realloc(f, *arr, ncap * elem);
    if (!p)
        return CANTO_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        unsigned min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (p[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* Replace *slot with a copy of @p s (NULL clears). */
static int set_string(const canto_form *f, char **slot, const char *s)
{
    char *copy = NULL;
    if (s) {
        if (!utf8_ok(s))
            return CANTO_EUTF8;
        if (!(copy = fm_strdup(f, s)))
            return CANTO_ENOMEM;
    }
    fm_free(f, *slot);
    *slot = copy;
    return 0;
}

/* --- fields ---------------------------------------------------------------- */

static void field_free(canto_form_field *fd)
{
    if (!fd)
        return;
    const canto_form *f = fd->form;
    fm_free(f, fd->type_attr);
    fm_free(f, fd->var);
    fm_free(f, fd->label);
    fm_free(f, fd->desc);
    for (size_t i = 0; i < fd->nvalues; i++)
        fm_free(f, fd->values[i]);
    fm_free(f, fd->values);
    for (size_t i = 0; i < fd->noptions; i++) {
        fm_free(f, fd->options[i].label);
        fm_free(f, fd->options[i].value);
    }
    fm_free(f, fd->options);
    fm_free(f, fd);
}

static void list_free(const canto_form *f, field_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        field_free(l->v[i]);
    fm_free(f, l->v);
    memset(l, 0, sizeof(*l));
}

static canto_form_field *list_find(const field_list *l, const char *var)
{
    if (!var)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i]->var && strcmp(l->v[i]->var, var) == 0)
            return l->v[i];
    return NULL;
}

/* Types that XEP-0004 §3.2 allows only one <value/>. */
static int single_valued(const canto_form_field *fd)
{
    if (!fd->known)
        return 0;
    switch (fd->type) {
    case CANTO_FORM_FIELD_BOOLEAN:
    case CANTO_FORM_FIELD_FIXED:
    case CANTO_FORM_FIELD_JID_SINGLE:
    case CANTO_FORM_FIELD_LIST_SINGLE:
    case CANTO_FORM_FIELD_TEXT_PRIVATE:
    case CANTO_FORM_FIELD_TEXT_SINGLE:
        return 1;
    default:
        return 0;
    }
}

static int may_have_options(const canto_form_field *fd)
{
    return !fd->known || fd->type == CANTO_FORM_FIELD_NONE ||
           fd->type == CANTO_FORM_FIELD_LIST_SINGLE || fd->type == CANTO_FORM_FIELD_LIST_MULTI;
}

static int parse_bool(const char *v, int *out)
{
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        *out = 0;
    else
        return CANTO_EINVAL;
    return 0;
}

/* Check a value against the field's type: 0 or CANTO_EINVAL. */
static int value_ok(const canto_form_field *fd, const char *v)
{
    int b;
    if (!fd->known)
        return 0;
    switch (fd->type) {
    case CANTO_FORM_FIELD_BOOLEAN:
        return parse_bool(v, &b);
    case CANTO_FORM_FIELD_JID_SINGLE:
    case CANTO_FORM_FIELD_JID_MULTI: {
        if (!*v)
            return 0;
        canto_jid *j = NULL;
        int rc = canto_jid_parse(NULL, v, &j);
        canto_jid_free(j);
        return rc == CANTO_ENOMEM ? rc : rc ? CANTO_EINVAL : 0;
    }
    default:
        return 0;
    }
}

/* Append without checks beyond the limit (callers check the type). */
static int push_value(canto_form_field *fd, const char *v)
{
    const canto_form *f = fd->form;
    if (fd->nvalues >= CANTO_FORM_MAX_VALUES)
        return CANTO_ETOOBIG;
    int rc = fm_grow(f, (void **)&fd->values, &fd->capvalues, fd->nvalues, sizeof(char *));
    if (rc)
        return rc;
    if (!(fd->values[fd->nvalues] = fm_strdup(f, v)))
        return CANTO_ENOMEM;
    fd->nvalues++;
    return 0;
}

static int push_option(canto_form_field *fd, const char *label, const char *value)
{
    const canto_form *f = fd->form;
    if (fd->noptions >= CANTO_FORM_MAX_OPTIONS)
        return CANTO_ETOOBIG;
    int rc = fm_grow(f, (void **)&fd->options, &fd->capoptions, fd->noptions, sizeof(form_option));
    if (rc)
        return rc;
    form_option o = {NULL, NULL};
    if ((label && !(o.label = fm_strdup(f, label))) || !(o.value = fm_strdup(f, value))) {
        fm_free(f, o.label);
        return CANTO_ENOMEM;
    }
    fd->options[fd->noptions++] = o;
    return 0;
}

/* A new field, not yet in any list. @p type_attr NULL: derived from @p type. */
static int field_new(canto_form *f, canto_form_field_type type, const char *type_attr,
                     const char *var, const char *label, canto_form_field **out)
{
    canto_form_field *fd = fm_alloc(f, sizeof(*fd));
    if (!fd)
        return CANTO_ENOMEM;
    memset(fd, 0, sizeof(*fd));
    fd->form = f;
    fd->type = type;
    fd->known = 1;
    const char *attr = type_attr ? type_attr : canto_form_field_type_name(type);
    if ((attr && !(fd->type_attr = fm_strdup(f, attr))) ||
        (var && !(fd->var = fm_strdup(f, var))) || (label && !(fd->label = fm_strdup(f, label)))) {
        field_free(fd);
        return CANTO_ENOMEM;
    }
    *out = fd;
    return 0;
}

static int list_push(canto_form *f, field_list *l, canto_form_field *fd)
{
    if (l->n >= CANTO_FORM_MAX_FIELDS)
        return CANTO_ETOOBIG;
    int rc = fm_grow(f, (void **)&l->v, &l->cap, l->n, sizeof(canto_form_field *));
    if (rc)
        return rc;
    l->v[l->n++] = fd;
    return 0;
}

static int add_to_list(canto_form *f, field_list *l, canto_form_field_type type, const char *var,
                       const char *label, canto_form_field **out)
{
    if (!f || (size_t)type >= NTYPES || (!var && type != CANTO_FORM_FIELD_FIXED))
        return CANTO_EINVAL;
    if ((var && !utf8_ok(var)) || (label && !utf8_ok(label)))
        return CANTO_EUTF8;
    if (list_find(l, var))
        return CANTO_EINVAL;
    if (l->n >= CANTO_FORM_MAX_FIELDS)
        return CANTO_ETOOBIG;
    canto_form_field *fd;
    int rc = field_new(f, type, NULL, var, label, &fd);
    if (rc)
        return rc;
    if ((rc = list_push(f, l, fd)) != 0) {
        field_free(fd);
        return rc;
    }
    if (out)
        *out = fd;
    return 0;
}

/* --- forms ----------------------------------------------------------------- */

static int form_alloc(const canto_allocator *alloc, canto_form_kind kind, canto_form **out)
{
    if (!out || !canto_form_kind_name(kind))
        return CANTO_EINVAL;
    if (alloc && (alloc->version != CANTO_ALLOCATOR_VERSION || !alloc->alloc || !alloc->realloc ||
                  !alloc->free))
        return CANTO_EINVAL;
    canto_form tmp;
    memset(&tmp, 0, sizeof(tmp));
    if (alloc) {
        tmp.alloc = *alloc;
        tmp.custom_alloc = 1;
    }
    canto_form *f = fm_alloc(&tmp, sizeof(*f));
    if (!f)
        return CANTO_ENOMEM;
    *f = tmp;
    f->kind = kind;
    *out = f;
    return 0;
}

int canto_form_new(const canto_allocator *alloc, canto_form_kind kind, canto_form **out)
{
    return form_alloc(alloc, kind, out);
}

void canto_form_free(canto_form *f)
{
    if (!f)
        return;
    fm_free(f, f->title);
    for (size_t i = 0; i < f->ninstr; i++)
        fm_free(f, f->instr[i]);
    fm_free(f, f->instr);
    list_free(f, &f->fields);
    list_free(f, &f->reported);
    for (size_t i = 0; i < f->nitems; i++)
        list_free(f, &f->items[i]);
    fm_free(f, f->items);
    fm_free(f, f);
}

canto_form_kind canto_form_get_kind(const canto_form *f)
{
    return f ? f->kind : (canto_form_kind)0;
}

const char *canto_form_type(const canto_form *f)
{
    canto_form_field *fd = f ? list_find(&f->fields, "FORM_TYPE") : NULL;
    if (!fd || fd->nvalues == 0 ||
        (fd->type != CANTO_FORM_FIELD_HIDDEN && fd->type != CANTO_FORM_FIELD_NONE))
        return NULL;
    return fd->values[0];
}

const char *canto_form_title(const canto_form *f)
{
    return f ? f->title : NULL;
}

int canto_form_set_title(canto_form *f, const char *title)
{
    return f ? set_string(f, &f->title, title) : CANTO_EINVAL;
}

const char *canto_form_instructions(const canto_form *f, size_t index)
{
    return f && index < f->ninstr ? f->instr[index] : NULL;
}

int canto_form_add_instructions(canto_form *f, const char *text)
{
    if (!f || !text)
        return CANTO_EINVAL;
    if (!utf8_ok(text))
        return CANTO_EUTF8;
    if (f->ninstr >= CANTO_FORM_MAX_INSTRUCTIONS)
        return CANTO_ETOOBIG;
    int rc = fm_grow(f, (void **)&f->instr, &f->capinstr, f->ninstr, sizeof(char *));
    if (rc)
        return rc;
    if (!(f->instr[f->ninstr] = fm_strdup(f, text)))
        return CANTO_ENOMEM;
    f->ninstr++;
    return 0;
}

int canto_form_add_field(canto_form *f, canto_form_field_type type, const char *var,
                         const char *label, canto_form_field **field)
{
    return add_to_list(f, f ? &f->fields : NULL, type, var, label, field);
}

int canto_form_remove_field(canto_form *f, const char *var)
{
    if (!f || !var)
        return CANTO_EINVAL;
    for (size_t i = 0; i < f->fields.n; i++) {
        canto_form_field *fd = f->fields.v[i];
        if (fd->var && strcmp(fd->var, var) == 0) {
            field_free(fd);
            memmove(&f->fields.v[i], &f->fields.v[i + 1],
                    (f->fields.n - i - 1) * sizeof(canto_form_field *));
            f->fields.n--;
            return 0;
        }
    }
    return CANTO_ENOTFOUND;
}

canto_form_field *canto_form_get_field(const canto_form *f, const char *var)
{
    return f ? list_find(&f->fields, var) : NULL;
}

size_t canto_form_field_count(const canto_form *f)
{
    return f ? f->fields.n : 0;
}

canto_form_field *canto_form_field_at(const canto_form *f, size_t index)
{
    return f && index < f->fields.n ? f->fields.v[index] : NULL;
}

const char *canto_form_value(const canto_form *f, const char *var)
{
    canto_form_field *fd = canto_form_get_field(f, var);
    return fd && fd->nvalues ? fd->values[0] : NULL;
}

/* --- one field -------------------------------------------------------------- */

canto_form_field_type canto_form_field_get_type(const canto_form_field *fd)
{
    return fd ? fd->type : CANTO_FORM_FIELD_NONE;
}

const char *canto_form_field_type_attr(const canto_form_field *fd)
{
    return fd ? fd->type_attr : NULL;
}

const char *canto_form_field_var(const canto_form_field *fd)
{
    return fd ? fd->var : NULL;
}

const char *canto_form_field_label(const canto_form_field *fd)
{
    return fd ? fd->label : NULL;
}

const char *canto_form_field_desc(const canto_form_field *fd)
{
    return fd ? fd->desc : NULL;
}

int canto_form_field_required(const canto_form_field *fd)
{
    return fd ? fd->required : 0;
}

int canto_form_field_set_label(canto_form_field *fd, const char *label)
{
    return fd ? set_string(fd->form, &fd->label, label) : CANTO_EINVAL;
}

int canto_form_field_set_desc(canto_form_field *fd, const char *desc)
{
    return fd ? set_string(fd->form, &fd->desc, desc) : CANTO_EINVAL;
}

int canto_form_field_set_required(canto_form_field *fd, int required)
{
    if (!fd)
        return CANTO_EINVAL;
    fd->required = required ? 1 : 0;
    return 0;
}

size_t canto_form_field_value_count(const canto_form_field *fd)
{
    return fd ? fd->nvalues : 0;
}

const char *canto_form_field_value(const canto_form_field *fd, size_t index)
{
    return fd && index < fd->nvalues ? fd->values[index] : NULL;
}

int canto_form_field_clear_values(canto_form_field *fd)
{
    if (!fd)
        return CANTO_EINVAL;
    for (size_t i = 0; i < fd->nvalues; i++)
        fm_free(fd->form, fd->values[i]);
    fd->nvalues = 0;
    return 0;
}

int canto_form_field_add_value(canto_form_field *fd, const char *value)
{
    if (!fd || !value)
        return CANTO_EINVAL;
    if (!utf8_ok(value))
        return CANTO_EUTF8;
    if (single_valued(fd) && fd->nvalues > 0)
        return CANTO_EINVAL;
    int rc = value_ok(fd, value);
    return rc ? rc : push_value(fd, value);
}

int canto_form_field_set_value(canto_form_field *fd, const char *value)
{
    if (!fd)
        return CANTO_EINVAL;
    if (value) {
        if (!utf8_ok(value))
            return CANTO_EUTF8;
        int rc = value_ok(fd, value);
        if (rc)
            return rc;
        /* Copy first so that a failure leaves the old values in place. */
        char *copy = fm_strdup(fd->form, value);
        if (!copy)
            return CANTO_ENOMEM;
        if (fd->capvalues == 0) {
            rc = fm_grow(fd->form, (void **)&fd->values, &fd->capvalues, 0, sizeof(char *));
            if (rc) {
                fm_free(fd->form, copy);
                return rc;
            }
        }
        canto_form_field_clear_values(fd);
        fd->values[0] = copy;
        fd->nvalues = 1;
        return 0;
    }
    return canto_form_field_clear_values(fd);
}

int canto_form_field_get_bool(const canto_form_field *fd, int *value)
{
    if (!fd || !value)
        return CANTO_EINVAL;
    if (fd->nvalues == 0) {
        *value = 0;
        return 0;
    }
    return parse_bool(fd->values[0], value);
}

int canto_form_field_set_bool(canto_form_field *fd, int value)
{
    return canto_form_field_set_value(fd, value ? "1" : "0");
}

size_t canto_form_field_option_count(const canto_form_field *fd)
{
    return fd ? fd->noptions : 0;
}

int canto_form_field_option(const canto_form_field *fd, size_t index, const char **label,
                            const char **value)
{
    if (!fd || index >= fd->noptions)
        return CANTO_EINVAL;
    if (label)
        *label = fd->options[index].label;
    if (value)
        *value = fd->options[index].value;
    return 0;
}

int canto_form_field_add_option(canto_form_field *fd, const char *label, const char *value)
{
    if (!fd || !value || !may_have_options(fd))
        return CANTO_EINVAL;
    if (!utf8_ok(value) || (label && !utf8_ok(label)))
        return CANTO_EUTF8;
    return push_option(fd, label, value);
}

/* --- reported and items ------------------------------------------------------ */

int canto_form_add_reported(canto_form *f, canto_form_field_type type, const char *var,
                            const char *label, canto_form_field **field)
{
    int rc = add_to_list(f, f ? &f->reported : NULL, type, var, label, field);
    if (rc == 0)
        f->has_reported = 1;
    return rc;
}

int canto_form_has_reported(const canto_form *f)
{
    return f ? f->has_reported : 0;
}

size_t canto_form_reported_count(const canto_form *f)
{
    return f ? f->reported.n : 0;
}

canto_form_field *canto_form_reported_at(const canto_form *f, size_t index)
{
    return f && index < f->reported.n ? f->reported.v[index] : NULL;
}

size_t canto_form_item_count(const canto_form *f)
{
    return f ? f->nitems : 0;
}

static int push_item(canto_form *f)
{
    if (f->nitems >= CANTO_FORM_MAX_ITEMS)
        return CANTO_ETOOBIG;
    int rc = fm_grow(f, (void **)&f->items, &f->capitems, f->nitems, sizeof(field_list));
    if (rc)
        return rc;
    memset(&f->items[f->nitems], 0, sizeof(field_list));
    f->nitems++;
    return 0;
}

int canto_form_add_item(canto_form *f, size_t *index)
{
    if (!f || !f->has_reported)
        return CANTO_EINVAL;
    int rc = push_item(f);
    if (rc == 0 && index)
        *index = f->nitems - 1;
    return rc;
}

/* A cell of an item: the header column's type, no type attribute of its own. */
static int item_cell(canto_form *f, field_list *row, const char *var, canto_form_field **out)
{
    canto_form_field *col = list_find(&f->reported, var);
    if (!col || list_find(row, var))
        return CANTO_EINVAL;
    canto_form_field *fd;
    int rc = field_new(f, col->type, NULL, var, NULL, &fd);
    if (rc)
        return rc;
    fd->known = col->known;
    fm_free(f, fd->type_attr);
    fd->type_attr = NULL;
    if ((rc = list_push(f, row, fd)) != 0) {
        field_free(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

int canto_form_item_add_field(canto_form *f, size_t item, const char *var, canto_form_field **field)
{
    if (!f || item >= f->nitems || !var)
        return CANTO_EINVAL;
    canto_form_field *fd;
    int rc = item_cell(f, &f->items[item], var, &fd);
    if (rc == 0 && field)
        *field = fd;
    return rc;
}

size_t canto_form_item_field_count(const canto_form *f, size_t item)
{
    return f && item < f->nitems ? f->items[item].n : 0;
}

canto_form_field *canto_form_item_field_at(const canto_form *f, size_t item, size_t index)
{
    if (!f || item >= f->nitems || index >= f->items[item].n)
        return NULL;
    return f->items[item].v[index];
}

canto_form_field *canto_form_item_field(const canto_form *f, size_t item, const char *var)
{
    return f && item < f->nitems ? list_find(&f->items[item], var) : NULL;
}

/* --- copies ------------------------------------------------------------------ */

/* Copy a field into form @p f; @p full also copies label, desc, options, required. */
static int field_copy(canto_form *f, const canto_form_field *src, int full, canto_form_field **out)
{
    canto_form_field *fd = fm_alloc(f, sizeof(*fd));
    if (!fd)
        return CANTO_ENOMEM;
    memset(fd, 0, sizeof(*fd));
    fd->form = f;
    fd->type = src->type;
    fd->known = src->known;
    int rc = CANTO_ENOMEM;
    if ((src->type_attr && !(fd->type_attr = fm_strdup(f, src->type_attr))) ||
        (src->var && !(fd->var = fm_strdup(f, src->var))))
        goto fail;
    if (full) {
        fd->required = src->required;
        if ((src->label && !(fd->label = fm_strdup(f, src->label))) ||
            (src->desc && !(fd->desc = fm_strdup(f, src->desc))))
            goto fail;
        for (size_t i = 0; i < src->noptions; i++)
            if ((rc = push_option(fd, src->options[i].label, src->options[i].value)) != 0)
                goto fail;
    }
    for (size_t i = 0; i < src->nvalues; i++)
        if ((rc = push_value(fd, src->values[i])) != 0)
            goto fail;
    *out = fd;
    return 0;
fail:
    field_free(fd);
    return rc;
}

static int list_copy(canto_form *f, field_list *dst, const field_list *src)
{
    for (size_t i = 0; i < src->n; i++) {
        canto_form_field *fd;
        int rc = field_copy(f, src->v[i], 1, &fd);
        if (rc == 0 && (rc = list_push(f, dst, fd)) != 0)
            field_free(fd);
        if (rc)
            return rc;
    }
    return 0;
}

int canto_form_copy(const canto_form *src, canto_form **out)
{
    if (!src || !out)
        return CANTO_EINVAL;
    canto_form *f;
    int rc = form_alloc(src->custom_alloc ? &src->alloc : NULL, src->kind, &f);
    if (rc)
        return rc;
    if (src->title && !(f->title = fm_strdup(f, src->title)))
        rc = CANTO_ENOMEM;
    for (size_t i = 0; rc == 0 && i < src->ninstr; i++)
        rc = canto_form_add_instructions(f, src->instr[i]);
    if (rc == 0)
        rc = list_copy(f, &f->fields, &src->fields);
    f->has_reported = src->has_reported;
    if (rc == 0)
        rc = list_copy(f, &f->reported, &src->reported);
    for (size_t i = 0; rc == 0 && i < src->nitems; i++)
        if ((rc = push_item(f)) == 0)
            rc = list_copy(f, &f->items[i], &src->items[i]);
    if (rc) {
        canto_form_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int canto_form_make_submit(const canto_form *src, canto_form **submit)
{
    if (!src || !submit)
        return CANTO_EINVAL;
    canto_form *f;
    int rc = form_alloc(src->custom_alloc ? &src->alloc : NULL, CANTO_FORM_SUBMIT, &f);
    if (rc)
        return rc;
    for (size_t i = 0; rc == 0 && i < src->fields.n; i++) {
        const canto_form_field *s = src->fields.v[i];
        if (!s->var || s->type == CANTO_FORM_FIELD_FIXED)
            continue;
        canto_form_field *fd;
        if ((rc = field_copy(f, s, 0, &fd)) == 0 && (rc = list_push(f, &f->fields, fd)) != 0)
            field_free(fd);
    }
    if (rc) {
        canto_form_free(f);
        return rc;
    }
    *submit = f;
    return 0;
}

/* --- parsing ------------------------------------------------------------------- */

typedef struct parse_ctx {
    canto_form *form;
    const char **detail;
} parse_ctx;

static int bad(parse_ctx *p, int rc, const char *why)
{
    if (p->detail)
        *p->detail = why;
    return rc;
}

static int is_forms_el(const canto_stanza *el, const char *name)
{
    return canto_stanza_is(el, name, CANTO_NS_DATA_FORMS);
}

static canto_form_field_type type_from_name(const char *name, int *known)
{
    for (size_t i = 1; i < NTYPES; i++) {
        if (strcmp(type_names[i], name) == 0) {
            *known = 1;
            return (canto_form_field_type)i;
        }
    }
    /* XEP-0004 §3.3: an unknown type MUST be taken as text-single. */
    *known = 0;
    return CANTO_FORM_FIELD_TEXT_SINGLE;
}

/* Read one <field/> into @p list. @p header: the reported columns for an item
 * row, else NULL. */
static int parse_field(parse_ctx *p, const canto_stanza *el, field_list *list,
                       const field_list *header)
{
    canto_form *f = p->form;
    const char *tattr = canto_stanza_attr(el, "type");
    const char *var = canto_stanza_attr(el, "var");
    canto_form_field_type type = CANTO_FORM_FIELD_NONE;
    int known = 1;
    const canto_form_field *col = NULL;
    if (tattr)
        type = type_from_name(tattr, &known);
    if (header) {
        if (!var || !(col = list_find(header, var)))
            return bad(p, CANTO_EPROTO, "an item has a field that <reported/> does not name");
        if (!tattr) {
            type = col->type;
            known = col->known;
        }
    }
    if (!var && !(known && type == CANTO_FORM_FIELD_FIXED))
        return bad(p, CANTO_EPROTO, "a field other than fixed has no var");
    if (list_find(list, var))
        return bad(p, CANTO_EPROTO, "two fields have the same var");
    if (list->n >= CANTO_FORM_MAX_FIELDS)
        return bad(p, CANTO_ETOOBIG, "too many fields");

    canto_form_field *fd;
    int rc = field_new(f, type, NULL, var, canto_stanza_attr(el, "label"), &fd);
    if (rc)
        return rc;
    fd->known = known;
    fm_free(f, fd->type_attr);
    fd->type_attr = NULL;
    if (tattr && !(fd->type_attr = fm_strdup(f, tattr))) {
        field_free(fd);
        return CANTO_ENOMEM;
    }
    if ((rc = list_push(f, list, fd)) != 0) {
        field_free(fd);
        return rc;
    }

    int ndesc = 0;
    for (canto_stanza *c = canto_stanza_first_element(el); c; c = canto_stanza_next_element(c)) {
        if (canto_stanza_ns(c) == NULL || strcmp(canto_stanza_ns(c), CANTO_NS_DATA_FORMS) != 0)
            continue;
        const char *name = canto_stanza_name(c);
        if (strcmp(name, "value") == 0) {
            const char *v = canto_stanza_text(c);
            if (!v)
                return CANTO_ENOMEM;
            if (single_valued(fd) && fd->nvalues > 0)
                return bad(p, CANTO_EPROTO, "a single-valued field has more than one value");
            if ((rc = value_ok(fd, v)) != 0)
                return rc == CANTO_ENOMEM ? rc
                       : fd->type == CANTO_FORM_FIELD_BOOLEAN
                           ? bad(p, CANTO_EPROTO,
                                 "a boolean field has a value other than 0/1/true/false")
                           : bad(p, CANTO_EPROTO, "a JID field has a value that is not a JID");
            if ((rc = push_value(fd, v)) != 0)
                return rc == CANTO_ETOOBIG ? bad(p, rc, "a field has too many values") : rc;
        } else if (strcmp(name, "option") == 0) {
            if (!may_have_options(fd))
                return bad(p, CANTO_EPROTO, "a field that is not a list has options");
            const canto_stanza *v = canto_stanza_child(c, "value", CANTO_NS_DATA_FORMS);
            if (!v || canto_stanza_next_match(v, "value", CANTO_NS_DATA_FORMS))
                return bad(p, CANTO_EPROTO, "an option does not have exactly one value");
            const char *text = canto_stanza_text(v);
            if (!text)
                return CANTO_ENOMEM;
            if ((rc = push_option(fd, canto_stanza_attr(c, "label"), text)) != 0)
                return rc == CANTO_ETOOBIG ? bad(p, rc, "a field has too many options") : rc;
        } else if (strcmp(name, "desc") == 0) {
            if (ndesc++)
                return bad(p, CANTO_EPROTO, "a field has more than one <desc/>");
            const char *text = canto_stanza_text(c);
            if (!text)
                return CANTO_ENOMEM;
            if (!(fd->desc = fm_strdup(f, text)))
                return CANTO_ENOMEM;
        } else if (strcmp(name, "required") == 0) {
            fd->required = 1;
        }
    }
    return 0;
}

static int parse_fields(parse_ctx *p, const canto_stanza *parent, field_list *list,
                        const field_list *header)
{
    for (canto_stanza *c = canto_stanza_first_element(parent); c;
         c = canto_stanza_next_element(c)) {
        if (!is_forms_el(c, "field"))
            continue;
        int rc = parse_field(p, c, list, header);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_into(parse_ctx *p, const canto_stanza *x)
{
    canto_form *f = p->form;
    int rc;
    int ntitle = 0;
    const canto_stanza *reported = NULL;
    for (canto_stanza *c = canto_stanza_first_element(x); c; c = canto_stanza_next_element(c)) {
        if (is_forms_el(c, "title")) {
            if (ntitle++)
                return bad(p, CANTO_EPROTO, "the form has more than one <title/>");
            const char *t = canto_stanza_text(c);
            if (!t)
                return CANTO_ENOMEM;
            if (!(f->title = fm_strdup(f, t)))
                return CANTO_ENOMEM;
        } else if (is_forms_el(c, "instructions")) {
            const char *t = canto_stanza_text(c);
            if (!t)
                return CANTO_ENOMEM;
            if ((rc = canto_form_add_instructions(f, t)) != 0)
                return rc == CANTO_ETOOBIG ? bad(p, rc, "too many <instructions/>") : rc;
        } else if (is_forms_el(c, "field")) {
            if ((rc = parse_field(p, c, &f->fields, NULL)) != 0)
                return rc;
        } else if (is_forms_el(c, "reported")) {
            if (reported)
                return bad(p, CANTO_EPROTO, "the form has more than one <reported/>");
            reported = c;
        }
    }
    if (reported) {
        f->has_reported = 1;
        if ((rc = parse_fields(p, reported, &f->reported, NULL)) != 0)
            return rc;
    }
    for (canto_stanza *c = canto_stanza_first_element(x); c; c = canto_stanza_next_element(c)) {
        if (!is_forms_el(c, "item"))
            continue;
        if (!reported)
            return bad(p, CANTO_EPROTO, "the form has <item/> rows but no <reported/>");
        if ((rc = push_item(f)) != 0)
            return rc == CANTO_ETOOBIG ? bad(p, rc, "too many items") : rc;
        if ((rc = parse_fields(p, c, &f->items[f->nitems - 1], &f->reported)) != 0)
            return rc;
    }
    return 0;
}

int canto_form_parse(const canto_allocator *alloc, const canto_stanza *x, canto_form **out,
                     const char **detail)
{
    if (detail)
        *detail = NULL;
    if (!x || !out || !is_forms_el(x, "x"))
        return CANTO_EINVAL;
    const char *type = canto_stanza_attr(x, "type");
    canto_form_kind kind = 0;
    for (int k = CANTO_FORM_FORM; type && k <= CANTO_FORM_RESULT; k++)
        if (strcmp(type, kind_names[k]) == 0)
            kind = (canto_form_kind)k;
    if (!kind) {
        if (detail)
            *detail = "the form type is missing or unknown";
        return CANTO_EPROTO;
    }
    canto_form *f;
    int rc = form_alloc(alloc, kind, &f);
    if (rc)
        return rc;
    parse_ctx p = {f, detail};
    if ((rc = parse_into(&p, x)) != 0) {
        canto_form_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* --- writing ------------------------------------------------------------------- */

static int add_text_child(canto_stanza *parent, const char *name, const char *text)
{
    canto_stanza *c;
    int rc = canto_stanza_add_child(parent, name, CANTO_NS_DATA_FORMS, &c);
    if (rc == 0 && text && *text)
        rc = canto_stanza_set_text(c, text);
    return rc;
}

static int field_to_stanza(const canto_form_field *fd, canto_stanza *parent)
{
    canto_stanza *el;
    int rc = canto_stanza_add_child(parent, "field", CANTO_NS_DATA_FORMS, &el);
    if (rc == 0 && fd->var)
        rc = canto_stanza_set_attr(el, "var", fd->var);
    if (rc == 0 && fd->type_attr)
        rc = canto_stanza_set_attr(el, "type", fd->type_attr);
    if (rc == 0 && fd->label)
        rc = canto_stanza_set_attr(el, "label", fd->label);
    if (rc == 0 && fd->desc)
        rc = add_text_child(el, "desc", fd->desc);
    if (rc == 0 && fd->required)
        rc = canto_stanza_add_child(el, "required", CANTO_NS_DATA_FORMS, NULL);
    for (size_t i = 0; rc == 0 && i < fd->nvalues; i++)
        rc = add_text_child(el, "value", fd->values[i]);
    for (size_t i = 0; rc == 0 && i < fd->noptions; i++) {
        canto_stanza *o;
        rc = canto_stanza_add_child(el, "option", CANTO_NS_DATA_FORMS, &o);
        if (rc == 0 && fd->options[i].label)
            rc = canto_stanza_set_attr(o, "label", fd->options[i].label);
        if (rc == 0)
            rc = add_text_child(o, "value", fd->options[i].value);
    }
    return rc;
}

static int list_to_stanza(const field_list *l, canto_stanza *parent)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l->n; i++)
        rc = field_to_stanza(l->v[i], parent);
    return rc;
}

int canto_form_to_stanza(const canto_form *f, canto_stanza *parent, canto_stanza **out)
{
    if (!f || !parent || canto_stanza_kind(parent) != CANTO_NODE_ELEMENT)
        return CANTO_EINVAL;
    canto_stanza *x;
    int rc = canto_stanza_add_child(parent, "x", CANTO_NS_DATA_FORMS, &x);
    if (rc)
        return rc;
    rc = canto_stanza_set_attr(x, "type", kind_names[f->kind]);
    if (rc == 0 && f->title)
        rc = add_text_child(x, "title", f->title);
    for (size_t i = 0; rc == 0 && i < f->ninstr; i++)
        rc = add_text_child(x, "instructions", f->instr[i]);
    if (rc == 0)
        rc = list_to_stanza(&f->fields, x);
    if (rc == 0 && f->has_reported) {
        canto_stanza *r;
        rc = canto_stanza_add_child(x, "reported", CANTO_NS_DATA_FORMS, &r);
        if (rc == 0)
            rc = list_to_stanza(&f->reported, r);
    }
    for (size_t i = 0; rc == 0 && i < f->nitems; i++) {
        canto_stanza *it;
        rc = canto_stanza_add_child(x, "item", CANTO_NS_DATA_FORMS, &it);
        if (rc == 0)
            rc = list_to_stanza(&f->items[i], it);
    }
    if (rc) {
        canto_stanza_remove(x); /* leave the parent as it was */
        return rc;
    }
    if (out)
        *out = x;
    return 0;
}
