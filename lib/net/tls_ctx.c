/* The shared TLS context: what many sessions on one thread can use together
 * instead of each building its own copy. */
#include <errno.h>
#include <unistd.h>

#include <canto/error.h>
#include "net/tls_impl.h"

int canto__tls_ctx_new(const canto__alloc *a, canto__tls_ctx **out)
{
    if (!a || !out)
        return CANTO_EINVAL;
    *out = NULL;
    canto__tls_ctx *ctx = canto__calloc(a, 1, sizeof(*ctx));
    if (!ctx)
        return CANTO_ENOMEM;
    ctx->alloc = *a;
    const char *err_pos = NULL;
    int rc = gnutls_priority_init(&ctx->prio, CANTO__TLS_PRIORITY, &err_pos);
    if (rc >= 0)
        rc = canto__tls_cred_new(&ctx->client_cred);
    if (rc < 0) {
        canto__tls_ctx_free(ctx);
        return rc == GNUTLS_E_MEMORY_ERROR ? CANTO_ENOMEM : CANTO_ETLS;
    }
    *out = ctx;
    return 0;
}

/* A trust list sized for a system store (GnuTLS hashes issuers into this
 * many buckets). */
#define TRUST_BUCKETS 1024

int canto__tls_ctx_load_trust(canto__tls_ctx *ctx, const char *ca_file, int no_system)
{
    if (!ctx || (no_system && !ca_file))
        return CANTO_EINVAL;
    if (ca_file && access(ca_file, R_OK) != 0)
        return errno == ENOMEM ? CANTO_ENOMEM : CANTO_ENOTFOUND;
    gnutls_x509_trust_list_t tl;
    if (gnutls_x509_trust_list_init(&tl, TRUST_BUCKETS) < 0)
        return CANTO_ENOMEM;
    int loaded = 0;
    if (!no_system) {
        int n = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
        if (n > 0)
            loaded += n;
    }
    if (ca_file) {
        int n = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
        if (n <= 0) {
            gnutls_x509_trust_list_deinit(tl, 1);
            return CANTO_ETLS;
        }
        loaded += n;
    }
    if (loaded == 0) {
        gnutls_x509_trust_list_deinit(tl, 1);
        return CANTO_ETLS;
    }
    if (ctx->trust)
        gnutls_x509_trust_list_deinit(ctx->trust, 1);
    ctx->trust = tl;
    return 0;
}

void canto__tls_ctx_free(canto__tls_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->prio)
        gnutls_priority_deinit(ctx->prio);
    if (ctx->client_cred)
        gnutls_certificate_free_credentials(ctx->client_cred);
    if (ctx->trust)
        gnutls_x509_trust_list_deinit(ctx->trust, 1);
    canto__alloc a = ctx->alloc;
    canto__dealloc(&a, ctx);
}
