/* disco#info and disco#items results, and the XEP-0115 verification string. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include <canto/error.h>
#include <canto/jid.h>

#include "disco_impl.h"

static char *dup_str(const char *s)
{
    size_t len = strlen(s);
    char *d = malloc(len + 1);
    if (d)
        memcpy(d, s, len + 1);
    return d;
}

/* Make room for one more @p elem-sized entry. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap > SIZE_MAX / elem)
        return CANTO_ENOMEM;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return CANTO_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* --- disco#info -------------------------------------------------------------- */

int canto__disco_info_new(canto_disco_info **out)
{
    canto_disco_info *info = calloc(1, sizeof(*info));
    if (!info)
        return CANTO_ENOMEM;
    info->refs = 1;
    *out = info;
    return 0;
}

canto_disco_info *canto_disco_info_ref(canto_disco_info *info)
{
    if (info)
        info->refs++;
    return info;
}

void canto_disco_info_free(canto_disco_info *info)
{
    if (!info || --info->refs > 0)
        return;
    free(info->node);
    for (size_t i = 0; i < info->nids; i++) {
        free(info->ids[i].category);
        free(info->ids[i].type);
        free(info->ids[i].name);
        free(info->ids[i].lang);
    }
    free(info->ids);
    for (size_t i = 0; i < info->nfeatures; i++)
        free(info->features[i]);
    free(info->features);
    for (size_t i = 0; i < info->nforms; i++)
        canto_form_free(info->forms[i]);
    free(info->forms);
    free(info);
}

int canto__disco_info_add_identity(canto_disco_info *info, const char *category, const char *type,
                                   const char *name, const char *lang)
{
    if (info->nids >= CANTO_DISCO_MAX_IDENTITIES)
        return CANTO_ETOOBIG;
    int rc = grow((void **)&info->ids, &info->capids, info->nids, sizeof(disco_identity));
    if (rc)
        return rc;
    disco_identity id = {dup_str(category), dup_str(type), name ? dup_str(name) : NULL,
                         lang ? dup_str(lang) : NULL};
    if (!id.category || !id.type || (name && !id.name) || (lang && !id.lang)) {
        free(id.category);
        free(id.type);
        free(id.name);
        free(id.lang);
        return CANTO_ENOMEM;
    }
    info->ids[info->nids++] = id;
    return 0;
}

int canto__disco_info_add_feature(canto_disco_info *info, const char *var)
{
    if (info->nfeatures >= CANTO_DISCO_MAX_FEATURES)
        return CANTO_ETOOBIG;
    int rc = grow((void **)&info->features, &info->capfeatures, info->nfeatures, sizeof(char *));
    if (rc)
        return rc;
    if (!(info->features[info->nfeatures] = dup_str(var)))
        return CANTO_ENOMEM;
    info->nfeatures++;
    return 0;
}

static int add_form_owned(canto_disco_info *info, canto_form *form)
{
    if (info->nforms >= CANTO_DISCO_MAX_EXTENSIONS)
        return CANTO_ETOOBIG;
    int rc = grow((void **)&info->forms, &info->capforms, info->nforms, sizeof(canto_form *));
    if (rc)
        return rc;
    info->forms[info->nforms++] = form;
    return 0;
}

int canto__disco_info_add_form(canto_disco_info *info, const canto_form *form)
{
    canto_form *copy;
    int rc = canto_form_copy(form, &copy);
    if (rc)
        return rc;
    if ((rc = add_form_owned(info, copy)) != 0)
        canto_form_free(copy);
    return rc;
}

static int set_detail(const char **detail, int rc, const char *why)
{
    if (detail)
        *detail = why;
    return rc;
}

static int info_parse_into(canto_disco_info *info, const canto_stanza *query, const char **detail)
{
    int rc;
    for (canto_stanza *c = canto_stanza_first_element(query); c; c = canto_stanza_next_element(c)) {
        if (canto_stanza_is(c, "identity", CANTO_NS_DISCO_INFO)) {
            const char *cat = canto_stanza_attr(c, "category");
            const char *type = canto_stanza_attr(c, "type");
            if (!cat || !type)
                return set_detail(detail, CANTO_EPROTO, "an identity lacks category or type");
            rc = canto__disco_info_add_identity(info, cat, type, canto_stanza_attr(c, "name"),
                                                canto_stanza_attr(c, "xml:lang"));
            if (rc)
                return rc == CANTO_ETOOBIG ? set_detail(detail, rc, "too many identities") : rc;
        } else if (canto_stanza_is(c, "feature", CANTO_NS_DISCO_INFO)) {
            const char *var = canto_stanza_attr(c, "var");
            if (!var)
                return set_detail(detail, CANTO_EPROTO, "a feature lacks var");
            if ((rc = canto__disco_info_add_feature(info, var)) != 0)
                return rc == CANTO_ETOOBIG ? set_detail(detail, rc, "too many features") : rc;
        } else if (canto_stanza_is(c, "x", CANTO_NS_DATA_FORMS)) {
            if (info->nforms >= CANTO_DISCO_MAX_EXTENSIONS)
                return set_detail(detail, CANTO_ETOOBIG, "too many extension forms");
            canto_form *form;
            if ((rc = canto_form_parse(NULL, c, &form, detail)) != 0)
                return rc;
            if ((rc = add_form_owned(info, form)) != 0) {
                canto_form_free(form);
                return rc;
            }
        }
    }
    return 0;
}

int canto_disco_info_parse(const canto_stanza *query, canto_disco_info **out, const char **detail)
{
    if (detail)
        *detail = NULL;
    if (!query || !out || !canto_stanza_is(query, "query", CANTO_NS_DISCO_INFO))
        return CANTO_EINVAL;
    canto_disco_info *info;
    int rc = canto__disco_info_new(&info);
    if (rc)
        return rc;
    const char *node = canto_stanza_attr(query, "node");
    if (node && !(info->node = dup_str(node)))
        rc = CANTO_ENOMEM;
    if (rc == 0)
        rc = info_parse_into(info, query, detail);
    if (rc) {
        canto_disco_info_free(info);
        return rc;
    }
    *out = info;
    return 0;
}

const char *canto_disco_info_node(const canto_disco_info *info)
{
    return info ? info->node : NULL;
}

size_t canto_disco_info_identity_count(const canto_disco_info *info)
{
    return info ? info->nids : 0;
}

int canto_disco_info_identity(const canto_disco_info *info, size_t index, const char **category,
                              const char **type, const char **name, const char **lang)
{
    if (!info || index >= info->nids)
        return CANTO_EINVAL;
    const disco_identity *id = &info->ids[index];
    if (category)
        *category = id->category;
    if (type)
        *type = id->type;
    if (name)
        *name = id->name;
    if (lang)
        *lang = id->lang;
    return 0;
}

size_t canto_disco_info_feature_count(const canto_disco_info *info)
{
    return info ? info->nfeatures : 0;
}

const char *canto_disco_info_feature(const canto_disco_info *info, size_t index)
{
    return info && index < info->nfeatures ? info->features[index] : NULL;
}

int canto_disco_info_has_feature(const canto_disco_info *info, const char *var)
{
    if (!info || !var)
        return 0;
    for (size_t i = 0; i < info->nfeatures; i++)
        if (strcmp(info->features[i], var) == 0)
            return 1;
    return 0;
}

size_t canto_disco_info_extension_count(const canto_disco_info *info)
{
    return info ? info->nforms : 0;
}

const canto_form *canto_disco_info_extension(const canto_disco_info *info, size_t index)
{
    return info && index < info->nforms ? info->forms[index] : NULL;
}

const canto_form *canto_disco_info_find_extension(const canto_disco_info *info,
                                                  const char *form_type)
{
    if (!info || !form_type)
        return NULL;
    for (size_t i = 0; i < info->nforms; i++) {
        const char *t = canto_form_type(info->forms[i]);
        if (t && strcmp(t, form_type) == 0)
            return info->forms[i];
    }
    return NULL;
}

/* --- the verification string (XEP-0115 §5) ----------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

/* Append @p s and the '<' separator. */
static void sb_factor(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->failed)
        return;
    if (n > SIZE_MAX - b->len - 2) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 2 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 2)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len++] = '<';
}

/* Part of an identity that goes into the hash; absent parts are "". */
static const char *part(const char *s)
{
    return s ? s : "";
}

static int cmp_identity(const void *a, const void *b)
{
    const disco_identity *x = *(const disco_identity *const *)a;
    const disco_identity *y = *(const disco_identity *const *)b;
    int c = strcmp(x->category, y->category);
    if (!c)
        c = strcmp(x->type, y->type);
    if (!c)
        c = strcmp(part(x->lang), part(y->lang));
    if (!c)
        c = strcmp(part(x->name), part(y->name));
    return c;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct hashed_form {
    const char *form_type;
    const canto_form *form;
} hashed_form;

static int cmp_form(const void *a, const void *b)
{
    return strcmp(((const hashed_form *)a)->form_type, ((const hashed_form *)b)->form_type);
}

static int cmp_field(const void *a, const void *b)
{
    return strcmp(canto_form_field_var(*(canto_form_field *const *)a),
                  canto_form_field_var(*(canto_form_field *const *)b));
}

static int has_lt(const char *s)
{
    return s && strchr(s, '<') != NULL;
}

/* The FORM_TYPE of an extension form for hashing: 0 with *out set, 0 with
 * *out NULL to leave the form out, or CANTO_EPROTO. */
static int hash_form_type(const canto_form *form, const char **out)
{
    *out = NULL;
    const canto_form_field *ft = canto_form_get_field(form, "FORM_TYPE");
    if (!ft)
        return 0;
    canto_form_field_type t = canto_form_field_get_type(ft);
    if (t != CANTO_FORM_FIELD_HIDDEN && t != CANTO_FORM_FIELD_NONE)
        return 0;
    size_t n = canto_form_field_value_count(ft);
    if (n == 0)
        return 0;
    const char *v = canto_form_field_value(ft, 0);
    for (size_t i = 1; i < n; i++)
        if (strcmp(canto_form_field_value(ft, i), v) != 0)
            return CANTO_EPROTO;
    *out = v;
    return 0;
}

/* Append one extension form's fields (other than FORM_TYPE). */
static int hash_form_fields(sbuf *b, const canto_form *form)
{
    size_t n = canto_form_field_count(form), nf = 0;
    canto_form_field **fields = calloc(n ? n : 1, sizeof(*fields));
    if (!fields)
        return CANTO_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        canto_form_field *fd = canto_form_field_at(form, i);
        const char *var = canto_form_field_var(fd);
        if (var && strcmp(var, "FORM_TYPE") != 0)
            fields[nf++] = fd;
    }
    qsort(fields, nf, sizeof(*fields), cmp_field);
    int rc = 0;
    const char **values = NULL;
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        const char *var = canto_form_field_var(fields[i]);
        if (has_lt(var) || (i > 0 && strcmp(var, canto_form_field_var(fields[i - 1])) == 0)) {
            rc = CANTO_EPROTO;
            break;
        }
        sb_factor(b, var);
        size_t nv = canto_form_field_value_count(fields[i]);
        const char **nvals = realloc(values, (nv ? nv : 1) * sizeof(*values));
        if (!nvals) {
            rc = CANTO_ENOMEM;
            break;
        }
        values = nvals;
        for (size_t j = 0; j < nv; j++)
            values[j] = canto_form_field_value(fields[i], j);
        qsort(values, nv, sizeof(*values), cmp_str);
        for (size_t j = 0; j < nv && rc == 0; j++) {
            if (has_lt(values[j]))
                rc = CANTO_EPROTO;
            else
                sb_factor(b, values[j]);
        }
    }
    free(values);
    free(fields);
    return rc;
}

/* Build S (XEP-0115 §5.1) with the §5.4 checks. */
static int build_s(const canto_disco_info *info, sbuf *b)
{
    int rc = 0;
    const disco_identity **ids = calloc(info->nids ? info->nids : 1, sizeof(*ids));
    const char **feats = calloc(info->nfeatures ? info->nfeatures : 1, sizeof(*feats));
    hashed_form *forms = calloc(info->nforms ? info->nforms : 1, sizeof(*forms));
    size_t nforms = 0;
    if (!ids || !feats || !forms) {
        rc = CANTO_ENOMEM;
        goto out;
    }

    for (size_t i = 0; i < info->nids; i++) {
        const disco_identity *id = &info->ids[i];
        if (has_lt(id->category) || has_lt(id->type) || has_lt(id->lang) || has_lt(id->name)) {
            rc = CANTO_EPROTO;
            goto out;
        }
        ids[i] = id;
    }
    qsort(ids, info->nids, sizeof(*ids), cmp_identity);
    for (size_t i = 0; i < info->nids; i++) {
        if (i > 0 && cmp_identity(&ids[i - 1], &ids[i]) == 0) {
            rc = CANTO_EPROTO; /* two identical identities */
            goto out;
        }
        char *s;
        const disco_identity *id = ids[i];
        size_t len = strlen(id->category) + strlen(id->type) + strlen(part(id->lang)) +
                     strlen(part(id->name)) + 4;
        if (!(s = malloc(len))) {
            rc = CANTO_ENOMEM;
            goto out;
        }
        snprintf(s, len, "%s/%s/%s/%s", id->category, id->type, part(id->lang), part(id->name));
        sb_factor(b, s);
        free(s);
    }

    for (size_t i = 0; i < info->nfeatures; i++) {
        if (has_lt(info->features[i])) {
            rc = CANTO_EPROTO;
            goto out;
        }
        feats[i] = info->features[i];
    }
    qsort(feats, info->nfeatures, sizeof(*feats), cmp_str);
    for (size_t i = 0; i < info->nfeatures; i++) {
        if (i > 0 && strcmp(feats[i - 1], feats[i]) == 0) {
            rc = CANTO_EPROTO; /* the same feature twice */
            goto out;
        }
        sb_factor(b, feats[i]);
    }

    for (size_t i = 0; i < info->nforms; i++) {
        const char *ft;
        if ((rc = hash_form_type(info->forms[i], &ft)) != 0)
            goto out;
        if (!ft)
            continue;
        if (has_lt(ft)) {
            rc = CANTO_EPROTO;
            goto out;
        }
        forms[nforms].form_type = ft;
        forms[nforms].form = info->forms[i];
        nforms++;
    }
    qsort(forms, nforms, sizeof(*forms), cmp_form);
    for (size_t i = 0; i < nforms; i++) {
        if (i > 0 && strcmp(forms[i - 1].form_type, forms[i].form_type) == 0) {
            rc = CANTO_EPROTO; /* two forms with the same FORM_TYPE */
            goto out;
        }
        sb_factor(b, forms[i].form_type);
        if ((rc = hash_form_fields(b, forms[i].form)) != 0)
            goto out;
    }
    if (b->failed)
        rc = CANTO_ENOMEM;
out:
    free(ids);
    free(feats);
    free(forms);
    return rc;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 §4 with padding; @p out needs 4 * ceil(n / 3) + 1 bytes. */
static void base64(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

int canto_disco_caps_hash(const canto_disco_info *info, const char *hash, char *ver, size_t cap)
{
    if (!info || !ver)
        return CANTO_EINVAL;
    if (hash && strcmp(hash, "sha-1") != 0)
        return CANTO_EUNSUPPORTED;
    if (cap < CANTO_DISCO_VER_SIZE)
        return CANTO_ETOOBIG;
    sbuf b = {NULL, 0, 0, 0};
    int rc = build_s(info, &b);
    if (rc == 0) {
        unsigned char digest[20];
        if (gnutls_hash_fast(GNUTLS_DIG_SHA1, b.p ? b.p : "", b.len, digest) < 0)
            rc = CANTO_EUNSUPPORTED;
        else
            base64(digest, sizeof(digest), ver);
    }
    free(b.p);
    return rc;
}

int canto_disco_caps_verify(const canto_disco_info *info, const char *hash, const char *ver)
{
    if (!info || !ver)
        return CANTO_EINVAL;
    char mine[CANTO_DISCO_VER_SIZE];
    int rc = canto_disco_caps_hash(info, hash, mine, sizeof(mine));
    if (rc)
        return rc;
    return strcmp(mine, ver) == 0 ? 1 : 0;
}

/* --- disco#items ------------------------------------------------------------- */

typedef struct disco_item {
    char *jid;
    char *node;
    char *name;
} disco_item;

struct canto_disco_items {
    char *node;
    disco_item *v;
    size_t n, cap;
};

void canto_disco_items_free(canto_disco_items *items)
{
    if (!items)
        return;
    for (size_t i = 0; i < items->n; i++) {
        free(items->v[i].jid);
        free(items->v[i].node);
        free(items->v[i].name);
    }
    free(items->v);
    free(items->node);
    free(items);
}

static int items_add(canto_disco_items *items, const char *jid, const char *node, const char *name)
{
    if (items->n >= CANTO_DISCO_MAX_ITEMS)
        return CANTO_ETOOBIG;
    int rc = grow((void **)&items->v, &items->cap, items->n, sizeof(disco_item));
    if (rc)
        return rc;
    disco_item it = {dup_str(jid), node ? dup_str(node) : NULL, name ? dup_str(name) : NULL};
    if (!it.jid || (node && !it.node) || (name && !it.name)) {
        free(it.jid);
        free(it.node);
        free(it.name);
        return CANTO_ENOMEM;
    }
    items->v[items->n++] = it;
    return 0;
}

int canto_disco_items_parse(const canto_stanza *query, canto_disco_items **out, const char **detail)
{
    if (detail)
        *detail = NULL;
    if (!query || !out || !canto_stanza_is(query, "query", CANTO_NS_DISCO_ITEMS))
        return CANTO_EINVAL;
    canto_disco_items *items = calloc(1, sizeof(*items));
    if (!items)
        return CANTO_ENOMEM;
    int rc = 0;
    const char *node = canto_stanza_attr(query, "node");
    if (node && !(items->node = dup_str(node)))
        rc = CANTO_ENOMEM;
    for (canto_stanza *c = canto_stanza_first_element(query); c && rc == 0;
         c = canto_stanza_next_element(c)) {
        if (!canto_stanza_is(c, "item", CANTO_NS_DISCO_ITEMS))
            continue;
        const char *jid = canto_stanza_attr(c, "jid");
        canto_jid *j = NULL;
        if (!jid || (rc = canto_jid_parse(NULL, jid, &j)) != 0) {
            if (rc != CANTO_ENOMEM)
                rc = set_detail(detail, CANTO_EPROTO, "an item has no valid jid");
            break;
        }
        rc = items_add(items, canto_jid_str(j), canto_stanza_attr(c, "node"),
                       canto_stanza_attr(c, "name"));
        canto_jid_free(j);
        if (rc == CANTO_ETOOBIG)
            set_detail(detail, rc, "too many items");
    }
    if (rc) {
        canto_disco_items_free(items);
        return rc;
    }
    *out = items;
    return 0;
}

const char *canto_disco_items_node(const canto_disco_items *items)
{
    return items ? items->node : NULL;
}

size_t canto_disco_items_count(const canto_disco_items *items)
{
    return items ? items->n : 0;
}

int canto_disco_items_get(const canto_disco_items *items, size_t index, const char **jid,
                          const char **node, const char **name)
{
    if (!items || index >= items->n)
        return CANTO_EINVAL;
    if (jid)
        *jid = items->v[index].jid;
    if (node)
        *node = items->v[index].node;
    if (name)
        *name = items->v[index].name;
    return 0;
}
