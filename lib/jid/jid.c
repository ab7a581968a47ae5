/* The canto_jid object: parsing, construction, accessors and comparison. A JID
 * is one allocation holding the struct and all of its strings. */
#include <canto/jid.h>

#include <stdint.h>
#include <string.h>

#include <canto/error.h>

#include "base/alloc.h"
#include "jid/jid_prep.h"

struct canto_jid {
    canto__alloc alloc;
    const char *local;        /* NULL if there is none */
    const char *domain;       /* U-label form */
    const char *domain_ascii; /* A-label form; == domain when they are the same */
    const char *resource;     /* NULL if there is none */
    const char *full;         /* local@domain/resource */
    const char *bare;         /* local@domain; == full when there is no resource */
    size_t local_len, domain_len, domain_ascii_len, resource_len;
    char data[];
};

/* A string to be stored in a new JID: NULL for none. */
typedef struct span {
    const char *s;
    size_t len;
} span;

static char *put(char **cur, const span *parts, size_t count)
{
    char *start = *cur;
    char *w = start;
    for (size_t i = 0; i < count; i++) {
        if (parts[i].s) {
            memcpy(w, parts[i].s, parts[i].len);
            w += parts[i].len;
        }
    }
    *w++ = '\0';
    *cur = w;
    return start;
}

/* Assemble a JID from parts that are already checked and normalized. Each part
 * is at most CANTO_JID_PART_MAX bytes, so the sizes cannot overflow. */
static int build(const canto__alloc *a, span local, span domain, span ascii, span resource,
                 canto_jid **out)
{
    int share_ascii =
        !ascii.s || (ascii.len == domain.len && memcmp(ascii.s, domain.s, domain.len) == 0);
    size_t bare_len = (local.s ? local.len + 1 : 0) + domain.len;
    size_t full_len = bare_len + (resource.s ? resource.len + 1 : 0);
    size_t size = full_len + 1;
    if (resource.s)
        size += bare_len + 1 + resource.len + 1;
    if (local.s)
        size += local.len + 1;
    size += domain.len + 1;
    if (!share_ascii)
        size += ascii.len + 1;

    canto_jid *jid = canto__malloc(a, sizeof(*jid) + size);
    if (!jid)
        return CANTO_ENOMEM;
    jid->alloc = *a;
    char *cur = jid->data;
    span at = {local.s ? "@" : NULL, 1};
    span slash = {resource.s ? "/" : NULL, 1};
    span bare_parts[] = {local, at, domain};
    span full_parts[] = {local, at, domain, slash, resource};
    jid->full = put(&cur, full_parts, 5);
    jid->bare = resource.s ? put(&cur, bare_parts, 3) : jid->full;
    jid->local = local.s ? put(&cur, &local, 1) : NULL;
    jid->local_len = local.s ? local.len : 0;
    jid->domain = put(&cur, &domain, 1);
    jid->domain_len = domain.len;
    jid->domain_ascii = share_ascii ? jid->domain : put(&cur, &ascii, 1);
    jid->domain_ascii_len = share_ascii ? domain.len : ascii.len;
    jid->resource = resource.s ? put(&cur, &resource, 1) : NULL;
    jid->resource_len = resource.s ? resource.len : 0;
    *out = jid;
    return 0;
}

/* Check and normalize raw parts (local and resource may be NULL), then build. */
static int prep_and_build(const canto__alloc *a, span local, span domain, span resource,
                          canto_jid **out)
{
    char local_buf[CANTO_JID_PART_MAX];
    canto__jid_domain dom;
    int rc;
    if (local.s) {
        if ((rc = canto__jid_prep_local(local.s, local.len, local_buf)) != 0)
            return rc;
        local.s = local_buf;
    }
    if ((rc = canto__jid_prep_domain(domain.s, domain.len, &dom)) != 0)
        return rc;
    if (resource.s && (rc = canto__jid_check_resource(resource.s, resource.len)) != 0)
        return rc;
    span u = {dom.uform, dom.ulen};
    span asc = {dom.aform, dom.alen};
    return build(a, local, u, asc, resource, out);
}

int canto_jid_parse(const canto_allocator *alloc, const char *str, canto_jid **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!str)
        return CANTO_EINVAL;
    canto__alloc a;
    int rc = canto__alloc_init(&a, alloc);
    if (rc != 0)
        return rc;

    /* RFC 7622 §3.2: the resourcepart is everything after the first '/', the
     * localpart everything before the first '@' that precedes it. */
    size_t len = strlen(str);
    const char *slash = memchr(str, '/', len);
    size_t bare_len = slash ? (size_t)(slash - str) : len;
    const char *at = memchr(str, '@', bare_len);
    span local = {NULL, 0}, domain = {str, bare_len}, resource = {NULL, 0};
    if (at) {
        local = (span){str, (size_t)(at - str)};
        domain = (span){at + 1, bare_len - local.len - 1};
    }
    if (slash)
        resource = (span){slash + 1, len - bare_len - 1};
    return prep_and_build(&a, local, domain, resource, out);
}

int canto_jid_new(const canto_allocator *alloc, const char *local, const char *domain,
                  const char *resource, canto_jid **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!domain)
        return CANTO_EINVAL;
    canto__alloc a;
    int rc = canto__alloc_init(&a, alloc);
    if (rc != 0)
        return rc;
    span l = {local, local ? strlen(local) : 0};
    span d = {domain, strlen(domain)};
    span r = {resource, resource ? strlen(resource) : 0};
    return prep_and_build(&a, l, d, r, out);
}

void canto_jid_free(canto_jid *jid)
{
    if (!jid)
        return;
    canto__alloc a = jid->alloc;
    canto__dealloc(&a, jid);
}

/* A new JID with the bare part of @p jid and the given (checked) resource. */
static int rebuild(const canto_jid *jid, span resource, canto_jid **out)
{
    span l = {jid->local, jid->local_len};
    span d = {jid->domain, jid->domain_len};
    span asc = {jid->domain_ascii, jid->domain_ascii_len};
    return build(&jid->alloc, l, d, asc, resource, out);
}

int canto_jid_copy(const canto_jid *jid, canto_jid **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!jid)
        return CANTO_EINVAL;
    span r = {jid->resource, jid->resource_len};
    return rebuild(jid, r, out);
}

int canto_jid_to_bare(const canto_jid *jid, canto_jid **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!jid)
        return CANTO_EINVAL;
    span none = {NULL, 0};
    return rebuild(jid, none, out);
}

int canto_jid_with_resource(const canto_jid *jid, const char *resource, canto_jid **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!jid)
        return CANTO_EINVAL;
    span r = {resource, resource ? strlen(resource) : 0};
    if (resource) {
        int rc = canto__jid_check_resource(r.s, r.len);
        if (rc != 0)
            return rc;
    }
    return rebuild(jid, r, out);
}

const char *canto_jid_local(const canto_jid *jid)
{
    return jid ? jid->local : NULL;
}

const char *canto_jid_domain(const canto_jid *jid)
{
    return jid ? jid->domain : NULL;
}

const char *canto_jid_domain_ascii(const canto_jid *jid)
{
    return jid ? jid->domain_ascii : NULL;
}

const char *canto_jid_resource(const canto_jid *jid)
{
    return jid ? jid->resource : NULL;
}

const char *canto_jid_str(const canto_jid *jid)
{
    return jid ? jid->full : NULL;
}

const char *canto_jid_bare_str(const canto_jid *jid)
{
    return jid ? jid->bare : NULL;
}

int canto_jid_is_bare(const canto_jid *jid)
{
    return jid && !jid->resource;
}

/* Neither a normalized localpart nor a normalized domainpart can contain '@' or
 * '/', so the joined strings compare equal exactly when every part does. */
int canto_jid_equal(const canto_jid *a, const canto_jid *b)
{
    return a && b && strcmp(a->full, b->full) == 0;
}

int canto_jid_bare_equal(const canto_jid *a, const canto_jid *b)
{
    return a && b && strcmp(a->bare, b->bare) == 0;
}

int canto_jid_str_equal(const char *a, const char *b)
{
    if (!a || !b)
        return CANTO_EINVAL;
    canto_jid *ja, *jb;
    int rc = canto_jid_parse(NULL, a, &ja);
    if (rc != 0)
        return rc;
    rc = canto_jid_parse(NULL, b, &jb);
    if (rc != 0) {
        canto_jid_free(ja);
        return rc;
    }
    rc = canto_jid_equal(ja, jb);
    canto_jid_free(ja);
    canto_jid_free(jb);
    return rc;
}

int canto_jid_normalize(const char *str, char **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    canto_jid *jid;
    int rc = canto_jid_parse(NULL, str, &jid);
    if (rc != 0)
        return rc;
    canto__alloc a = jid->alloc;
    size_t len = strlen(jid->full);
    *out = canto__owned_strndup(&a, jid->full, len);
    canto_jid_free(jid);
    return *out ? 0 : CANTO_ENOMEM;
}
