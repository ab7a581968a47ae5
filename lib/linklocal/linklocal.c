/* The canto_linklocal object: options, start (listener, mDNS publish and
 * browse), status changes, and freeing. */
#include "linklocal/linklocal_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <canto/error.h>
#include <canto/jid.h>

#define DEFAULT_TTL_S 120
#define OTHER_TTL_S 4500 /* RFC 6762 §10 for records not tied to a host name */

const char *canto_ll_status_name(canto_ll_status status)
{
    switch (status) {
    case CANTO_LL_AVAIL:
        return "avail";
    case CANTO_LL_AWAY:
        return "away";
    case CANTO_LL_DND:
        return "dnd";
    }
    return "?";
}

void canto__ll_set_error(canto_linklocal *ll, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ll->last_error, sizeof(ll->last_error), fmt, ap);
    va_end(ap);
    canto__logf(&ll->log, CANTO_LOG_WARN, "linklocal", "%s", ll->last_error);
}

static char *dup_opt(canto_linklocal *ll, const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = canto__strndup(&ll->alloc, s, strlen(s));
    if (!d)
        *failed = 1;
    return d;
}

/* A TXT string holds at most 255 bytes, key and '=' included. */
static int txt_value_ok(const char *key, const char *value)
{
    return !value || strlen(key) + 1 + strlen(value) <= 255;
}

static int check_options(const canto_linklocal_options *o)
{
    if (!o->name || !o->name[0] || (unsigned)o->status > CANTO_LL_DND)
        return CANTO_EINVAL;
    if ((unsigned)o->tls > CANTO_LL_TLS_REQUIRED ||
        (o->tls != CANTO_LL_TLS_OFF && (!o->cert_file || !o->key_file)) || (!o->pins && o->npins) ||
        (o->pins && !o->npins))
        return CANTO_EINVAL;
    int ncaps = !!o->caps_hash + !!o->caps_node + !!o->caps_ver;
    if (ncaps != 0 && ncaps != 3)
        return CANTO_EINVAL;
    const char *keys[] = {"nick", "1st", "last", "email", "jid", "msg", "hash", "node", "ver"};
    const char *vals[] = {o->nick, o->first,     o->last,      o->email,   o->jid,
                          o->msg,  o->caps_hash, o->caps_node, o->caps_ver};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!txt_value_ok(keys[i], vals[i]))
            return CANTO_EINVAL;
    return 0;
}

/* "user" gets the machine's host name, as XEP-0174 §3.1 names services. */
static int full_name(canto_linklocal *ll, const char *name, const char *host)
{
    char machine[256];
    if (strchr(name, '@')) {
        ll->name = canto__strndup(&ll->alloc, name, strlen(name));
    } else {
        if (host) {
            snprintf(machine, sizeof(machine), "%s", host);
        } else if (gethostname(machine, sizeof(machine)) != 0) {
            snprintf(machine, sizeof(machine), "localhost");
        }
        machine[sizeof(machine) - 1] = '\0';
        char *dot = strchr(machine, '.');
        if (dot)
            *dot = '\0';
        size_t len = strlen(name) + 1 + strlen(machine);
        ll->name = canto__malloc(&ll->alloc, len + 1);
        if (ll->name)
            snprintf(ll->name, len + 1, "%s@%s", name, machine);
    }
    if (!ll->name)
        return CANTO_ENOMEM;
    canto_jid *j;
    int rc = canto_jid_parse(NULL, ll->name, &j);
    if (rc)
        return rc;
    int bare = canto_jid_resource(j) == NULL && canto_jid_local(j) != NULL;
    canto_jid_free(j);
    if (!bare)
        return CANTO_EJID_LOCAL;
    const char *at = strchr(ll->name, '@');
    ll->user = canto__strndup(&ll->alloc, ll->name, (size_t)(at - ll->name));
    return ll->user ? 0 : CANTO_ENOMEM;
}

int canto_linklocal_new(canto_loop *loop, const canto_linklocal_options *o, canto_linklocal **out)
{
    if (!out)
        return CANTO_EINVAL;
    *out = NULL;
    if (!loop || !o || o->version != CANTO_LINKLOCAL_OPTIONS_VERSION)
        return CANTO_EINVAL;
    int rc = check_options(o);
    if (rc)
        return rc;
    canto__alloc a;
    rc = canto__alloc_init(&a, o->alloc);
    if (rc)
        return rc;
    canto_linklocal *ll = canto__calloc(&a, 1, sizeof(*ll));
    if (!ll)
        return CANTO_ENOMEM;
    ll->alloc = a;
    ll->loop = loop;
    ll->log = (canto__log){o->log, o->log_user_data, o->log_level};
    ll->opts = *o;
    ll->status = o->status;
    ll->listen_fd[0] = ll->listen_fd[1] = -1;
    snprintf(ll->last_error, sizeof(ll->last_error), "no error");
    int failed = 0;
    ll->nick = dup_opt(ll, o->nick, &failed);
    ll->first = dup_opt(ll, o->first, &failed);
    ll->last = dup_opt(ll, o->last, &failed);
    ll->email = dup_opt(ll, o->email, &failed);
    ll->jid = dup_opt(ll, o->jid, &failed);
    ll->msg = dup_opt(ll, o->msg, &failed);
    ll->caps_hash = dup_opt(ll, o->caps_hash, &failed);
    ll->caps_node = dup_opt(ll, o->caps_node, &failed);
    ll->caps_ver = dup_opt(ll, o->caps_ver, &failed);
    ll->host = dup_opt(ll, o->host, &failed);
    ll->cert_file = dup_opt(ll, o->cert_file, &failed);
    ll->key_file = dup_opt(ll, o->key_file, &failed);
    if (o->npins) {
        ll->pins = canto__calloc(&ll->alloc, o->npins, sizeof(*ll->pins));
        if (ll->pins) {
            memcpy(ll->pins, o->pins, o->npins * sizeof(*ll->pins));
            ll->npins = o->npins;
        } else {
            failed = 1;
        }
    }
    if (o->interfaces) {
        size_t n = 0;
        while (o->interfaces[n])
            n++;
        ll->interfaces = canto__calloc(&ll->alloc, n + 1, sizeof(char *));
        if (!ll->interfaces)
            failed = 1;
        for (size_t i = 0; ll->interfaces && i < n; i++)
            ll->interfaces[i] = dup_opt(ll, o->interfaces[i], &failed);
    }
    rc = failed ? CANTO_ENOMEM : full_name(ll, o->name, o->host);
    if (rc) {
        canto_linklocal_free(ll);
        return rc;
    }
    /* The options' strings are the caller's; only ours are used from now. */
    ll->opts.name = ll->opts.nick = ll->opts.first = ll->opts.last = NULL;
    ll->opts.email = ll->opts.jid = ll->opts.msg = ll->opts.host = NULL;
    ll->opts.caps_hash = ll->opts.caps_node = ll->opts.caps_ver = NULL;
    ll->opts.interfaces = NULL;
    ll->opts.cert_file = ll->opts.key_file = NULL;
    ll->opts.pins = NULL;
    *out = ll;
    return 0;
}

void canto__ll_enter(canto_linklocal *ll)
{
    ll->depth++;
}

static void destroy(canto_linklocal *ll);

int canto__ll_leave(canto_linklocal *ll)
{
    if (--ll->depth == 0 && ll->freed) {
        destroy(ll);
        return 1;
    }
    return ll->freed;
}

/* --- events from the mDNS engine -------------------------------------------- */

static void on_published(void *ud, unsigned handle, const char *instance)
{
    canto_linklocal *ll = ud;
    if (handle != ll->handle || !instance)
        return;
    int changed = !ll->published || strcmp(ll->published, instance) != 0;
    canto__dealloc(&ll->alloc, ll->published);
    ll->published = canto__strndup(&ll->alloc, instance, strlen(instance));
    canto__logf(&ll->log, CANTO_LOG_INFO, "linklocal", "announced as %s", instance);
    if (changed && strcmp(instance, ll->name) != 0 && ll->opts.renamed) {
        canto__ll_enter(ll);
        ll->opts.renamed(ll->opts.user_data, ll, instance);
        canto__ll_leave(ll);
    }
}

static void on_renamed(void *ud, unsigned handle, int host, const char *new_name)
{
    canto_linklocal *ll = ud;
    canto__logf(&ll->log, CANTO_LOG_INFO, "linklocal", "%s name taken; now trying %s",
                host ? "host" : "service", new_name);
    (void)handle;
}

/* --- start ------------------------------------------------------------------ */

static int open_mdns(canto_linklocal *ll)
{
    canto__mdns_io_config cfg = {0};
    char host[256];
    const char *at = strchr(ll->name, '@');
    /* Our A/AAAA records go under the machine part of the name unless the
     * application chose a host label of its own. */
    snprintf(host, sizeof(host), "%s", ll->host ? ll->host : at + 1);
    cfg.host = host;
    cfg.ifnames = (const char *const *)ll->interfaces;
    canto__mdns_events ev = {NULL, canto__ll_on_service, on_published, on_renamed};
    int rc = canto__mdns_io_new(ll->loop, &cfg, &ev, ll, &ll->mdns);
    if (rc) {
        canto__ll_set_error(ll, "could not open the mDNS sockets: %s", canto_strerror(rc));
        return rc;
    }
    canto__mdns *m = canto__mdns_io_engine(ll->mdns);
    uint32_t ttl = ll->opts.ttl ? ll->opts.ttl : DEFAULT_TTL_S;
    canto__mdns_set_ttls(m, ttl, ll->opts.ttl ? ttl : OTHER_TTL_S);
    return 0;
}

int canto_linklocal_start(canto_linklocal *ll)
{
    if (!ll)
        return CANTO_EINVAL;
    if (ll->started)
        return CANTO_ESTATE;
    /* Read only when a stream starts TLS: a bad path would otherwise show up
     * as one failed stream after another. */
    const char *files[] = {ll->cert_file, ll->key_file};
    for (size_t i = 0; i < 2; i++)
        if (files[i] && access(files[i], R_OK) != 0) {
            canto__ll_set_error(ll, "cannot read %s: %s", files[i], strerror(errno));
            return CANTO_EIO;
        }
    int rc = canto__ll_listen(ll);
    if (rc == 0)
        rc = open_mdns(ll);
    uint8_t txt[CANTO__MDNS_TXT_MAX];
    uint16_t txt_len = 0;
    if (rc == 0)
        rc = canto__ll_build_txt(ll, txt, &txt_len);
    canto__mdns *m = ll->mdns ? canto__mdns_io_engine(ll->mdns) : NULL;
    uint64_t now = ll->mdns ? canto__mdns_io_now(ll->mdns) : 0;
    if (rc == 0)
        rc = canto__mdns_browse(m, CANTO__LL_SERVICE, now);
    if (rc == 0)
        rc = canto__mdns_publish(m, ll->name, CANTO__LL_SERVICE, ll->port, txt, txt_len, now,
                                 &ll->handle);
    if (rc) {
        if (strcmp(ll->last_error, "no error") == 0)
            canto__ll_set_error(ll, "could not start: %s", canto_strerror(rc));
        canto__mdns_io_free(ll->mdns);
        ll->mdns = NULL;
        canto__ll_listen_close(ll);
        return rc;
    }
    canto__mdns_io_kick(ll->mdns);
    ll->started = 1;
    return 0;
}

int canto_linklocal_set_status(canto_linklocal *ll, canto_ll_status status, const char *msg)
{
    if (!ll || (unsigned)status > CANTO_LL_DND || !txt_value_ok("msg", msg))
        return CANTO_EINVAL;
    char *copy = NULL;
    if (msg && !(copy = canto__strndup(&ll->alloc, msg, strlen(msg))))
        return CANTO_ENOMEM;
    canto__dealloc(&ll->alloc, ll->msg);
    ll->msg = copy;
    ll->status = status;
    if (!ll->started)
        return 0;
    uint8_t txt[CANTO__MDNS_TXT_MAX];
    uint16_t len = 0;
    int rc = canto__ll_build_txt(ll, txt, &len);
    if (rc == 0)
        rc = canto__mdns_update_txt(canto__mdns_io_engine(ll->mdns), ll->handle, txt, len,
                                    canto__mdns_io_now(ll->mdns));
    canto__mdns_io_kick(ll->mdns);
    return rc;
}

int canto_linklocal_network_changed(canto_linklocal *ll)
{
    if (!ll)
        return CANTO_EINVAL;
    if (!ll->started)
        return CANTO_ESTATE;
    int rc = canto__mdns_io_refresh(ll->mdns);
    if (rc)
        canto__ll_set_error(ll, "could not read the network interfaces again: %s",
                            canto_strerror(rc));
    return rc;
}

const char *canto_linklocal_name(const canto_linklocal *ll)
{
    if (!ll)
        return NULL;
    return ll->published ? ll->published : ll->name;
}

unsigned canto_linklocal_port(const canto_linklocal *ll)
{
    return ll && ll->started ? ll->port : 0;
}

const char *canto_linklocal_last_error(const canto_linklocal *ll)
{
    return ll ? ll->last_error : "no object";
}

/* --- free ------------------------------------------------------------------- */

static void destroy(canto_linklocal *ll)
{
    /* Callbacks from here on (undelivered stanzas) may call free again. */
    ll->depth++;
    ll->freed = 1;
    canto__ll_sessions_free(ll);
    /* Goodbyes go out from here (TTL 0), so peers drop us at once. */
    canto__mdns_io_free(ll->mdns);
    canto__ll_listen_close(ll);
    canto__ll_peers_free(ll);
    canto__timer_stop(&ll->reaper);
    char **strs[] = {&ll->name,      &ll->published, &ll->user, &ll->nick,      &ll->first,
                     &ll->last,      &ll->email,     &ll->jid,  &ll->msg,       &ll->caps_hash,
                     &ll->caps_node, &ll->caps_ver,  &ll->host, &ll->cert_file, &ll->key_file};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        canto__dealloc(&ll->alloc, *strs[i]);
    for (size_t i = 0; ll->interfaces && ll->interfaces[i]; i++)
        canto__dealloc(&ll->alloc, ll->interfaces[i]);
    canto__dealloc(&ll->alloc, ll->interfaces);
    canto__dealloc(&ll->alloc, ll->pins);
    canto__alloc a = ll->alloc;
    canto__dealloc(&a, ll);
}

void canto_linklocal_free(canto_linklocal *ll)
{
    if (!ll)
        return;
    if (ll->depth > 0) {
        /* Inside one of our callbacks: finish when it returns. */
        ll->freed = 1;
        return;
    }
    destroy(ll);
}
