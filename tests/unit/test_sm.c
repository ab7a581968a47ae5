#include "check.h"

#include <inttypes.h>
#include <stdlib.h>

#include <canto/canto.h>
#include "base/alloc.h"
#include "stream/sm.h"

typedef struct log {
    uint64_t tokens[64];
    int status[64];
    int n;
} log_t;

static void on_done(void *ud, uint64_t token, int status)
{
    log_t *l = ud;
    if (l->n < 64) {
        l->tokens[l->n] = token;
        l->status[l->n] = status;
    }
    l->n++;
}

static canto__sm *make(log_t *l)
{
    canto__alloc a;
    canto__alloc_init(&a, NULL);
    canto__sm *sm = NULL;
    canto__sm_new(&a, on_done, l, &sm);
    return sm;
}

static int test_push_ack(void)
{
    log_t l = {{0}, {0}, 0};
    canto__sm *sm = make(&l);
    REQUIRE(sm);
    CHECK_INT(canto__sm_enabled(sm, "sid1", NULL, 300), 0);
    for (uint64_t t = 1; t <= 5; t++)
        CHECK_INT(canto__sm_push(sm, "<message/>", 10, t), 0);
    CHECK_INT(canto__sm_sent(sm), 5);
    CHECK_INT(canto__sm_unacked(sm), 5);
    CHECK_INT(canto__sm_unacked_bytes(sm), 50);
    CHECK_INT(canto__sm_ack(sm, 2), 0);
    CHECK_INT(l.n, 2);
    CHECK_INT(l.tokens[0], 1);
    CHECK_INT(l.tokens[1], 2);
    CHECK_INT(l.status[1], 0);
    CHECK_INT(canto__sm_ack(sm, 2), 0); /* repeated ack: nothing new */
    CHECK_INT(l.n, 2);
    CHECK_INT(canto__sm_ack(sm, 6), CANTO_EPROTO); /* more than sent */
    CHECK_INT(canto__sm_unacked(sm), 3);
    uint64_t tok;
    size_t len;
    CHECK(canto__sm_entry(sm, 0, &len, &tok) != NULL);
    CHECK_INT(tok, 3);
    CHECK(canto__sm_entry(sm, 3, NULL, NULL) == NULL);
    canto__sm_fail_all(sm, CANTO_ECLOSED);
    CHECK_INT(l.n, 5);
    CHECK_INT(l.status[4], CANTO_ECLOSED);
    CHECK_INT(canto__sm_unacked(sm), 0);
    /* After fail_all the counters still agree: a later ack of 5 is valid. */
    CHECK_INT(canto__sm_ack(sm, 5), 0);
    CHECK_INT(canto__sm_ack(sm, 6), CANTO_EPROTO);
    canto__sm_handled(sm);
    canto__sm_handled(sm);
    CHECK_INT(canto__sm_received(sm), 2);
    canto__sm_free(sm);
    return 0;
}

static int test_wraparound(void)
{
    log_t l = {{0}, {0}, 0};
    canto__sm *sm = make(&l);
    REQUIRE(sm);
    /* An exported state just below 2^32 (sent == acked, empty queue). */
    char state[128];
    int n = snprintf(state, sizeof(state),
                     "canto-sm 1\n1 %" PRIu32 " %" PRIu32 " 4294967295 0 0\n0\n0\n", UINT32_MAX - 1,
                     UINT32_MAX - 1);
    REQUIRE(canto__sm_import(sm, state, (size_t)n) == 0);
    for (uint64_t t = 1; t <= 4; t++)
        CHECK_INT(canto__sm_push(sm, "<iq/>", 5, t), 0);
    CHECK_INT(canto__sm_sent(sm), 2); /* 2^32 - 2 + 4 wraps to 2 */
    CHECK_INT(canto__sm_ack(sm, UINT32_MAX), 0);
    CHECK_INT(l.n, 1);
    CHECK_INT(canto__sm_ack(sm, 1), 0); /* across the wrap */
    CHECK_INT(l.n, 3);
    CHECK_INT(canto__sm_ack(sm, 3), CANTO_EPROTO);
    CHECK_INT(canto__sm_ack(sm, 2), 0);
    CHECK_INT(l.n, 4);
    canto__sm_handled(sm);
    CHECK_INT(canto__sm_received(sm), 0); /* inbound wraps too */
    canto__sm_free(sm);
    return 0;
}

static int test_pop_and_reset(void)
{
    log_t l = {{0}, {0}, 0};
    canto__sm *sm = make(&l);
    REQUIRE(sm);
    CHECK_INT(canto__sm_push(sm, "<message id='a'/>", 17, 7), 0);
    CHECK_INT(canto__sm_push(sm, "<message id='b'/>", 17, 8), 0);
    char *xml;
    size_t len;
    uint64_t tok;
    CHECK_INT(canto__sm_pop(sm, &xml, &len, &tok), 0);
    CHECK_INT(tok, 7);
    CHECK(len == 17 && memcmp(xml, "<message id='a'/>", 17) == 0);
    canto_free(xml);
    CHECK_INT(l.n, 0); /* popping reports nothing */
    CHECK_INT(canto__sm_pop(sm, &xml, &len, &tok), 0);
    canto_free(xml);
    CHECK_INT(canto__sm_pop(sm, &xml, &len, &tok), CANTO_ENOTFOUND);
    canto__sm_reset_counters(sm);
    CHECK_INT(canto__sm_sent(sm), 0);
    CHECK(!canto__sm_is_enabled(sm));
    canto__sm_free(sm);
    return 0;
}

static int test_export_import(void)
{
    log_t l = {{0}, {0}, 0};
    canto__sm *sm = make(&l);
    REQUIRE(sm);
    CHECK_INT(canto__sm_enabled(sm, "session-id", "[::1]:5222", 600), 0);
    const char *bodies[3] = {"<message><body>one\n two</body></message>", "<presence/>",
                             "<iq type='get' id='x'/>"};
    for (int i = 0; i < 3; i++)
        CHECK_INT(canto__sm_push(sm, bodies[i], strlen(bodies[i]), (uint64_t)(100 + i)), 0);
    CHECK_INT(canto__sm_ack(sm, 1), 0);
    canto__sm_handled(sm);
    char *buf;
    size_t len;
    REQUIRE(canto__sm_export(sm, &buf, &len) == 0);

    log_t l2 = {{0}, {0}, 0};
    canto__sm *other = make(&l2);
    REQUIRE(other);
    CHECK_INT(canto__sm_import(other, buf, len), 0);
    CHECK_STR(canto__sm_id(other), "session-id");
    CHECK_STR(canto__sm_location(other), "[::1]:5222");
    CHECK(canto__sm_is_enabled(other));
    CHECK_INT(canto__sm_sent(other), 3);
    CHECK_INT(canto__sm_received(other), 1);
    CHECK_INT(canto__sm_unacked(other), 2);
    size_t elen;
    uint64_t tok;
    const char *e = canto__sm_entry(other, 0, &elen, &tok);
    CHECK(e && elen == strlen(bodies[1]) && memcmp(e, bodies[1], elen) == 0);
    CHECK_INT(tok, 101);
    CHECK_INT(canto__sm_ack(other, 3), 0);
    CHECK_INT(l2.n, 2);
    CHECK_INT(l2.tokens[1], 102);

    /* Damaged exports are refused without touching the state. */
    CHECK_INT(canto__sm_import(other, buf, len - 2), CANTO_EINVAL);
    CHECK_INT(canto__sm_import(other, "garbage", 7), CANTO_EINVAL);
    buf[len - 3] = 'X';
    CHECK_INT(canto__sm_import(other, buf, len), 0); /* content bytes are opaque */
    char *bad = malloc(len + 1);
    memcpy(bad, buf, len);
    memcpy(bad + 11, "1 9", 3); /* counters disagree with the queue length */
    CHECK_INT(canto__sm_import(other, bad, len), CANTO_EINVAL);
    free(bad);
    CHECK_INT(canto__sm_unacked(other), 2);
    canto_free(buf);
    canto__sm_free(other);
    canto__sm_free(sm);
    return 0;
}

int main(void)
{
    RUN(test_push_ack);
    RUN(test_wraparound);
    RUN(test_pop_and_reset);
    RUN(test_export_import);
    return CHECK_DONE();
}
