#include "check.h"

#include <stdlib.h>

#include <canto/canto.h>
#include "base/alloc.h"
#include "base/log.h"
#include "base/utf8.h"

static int test_strerror(void)
{
    CHECK_STR(canto_strerror(0), "success");
    CHECK_STR(canto_strerror(CANTO_ENOMEM), "out of memory");
    CHECK_STR(canto_strerror(12345), "unknown error");
    /* Every code up to the last defined one has its own sentence. */
    for (int c = CANTO_EINVAL; c >= CANTO_ECLOSED; c--) {
        CHECK(strcmp(canto_strerror(c), "unknown error") != 0);
        for (int d = c - 1; d >= CANTO_ECLOSED; d--)
            CHECK(strcmp(canto_strerror(c), canto_strerror(d)) != 0);
    }
    return 0;
}

static int test_version(void)
{
    CHECK_STR(canto_version(), "0.1.0");
    CHECK_INT(canto_version_number(), CANTO_VERSION_NUMBER);
    return 0;
}

struct counting {
    int allocs, frees;
};

static void *c_alloc(void *ud, size_t n)
{
    ((struct counting *)ud)->allocs++;
    return malloc(n);
}

static void *c_realloc(void *ud, void *p, size_t n)
{
    if (!p)
        ((struct counting *)ud)->allocs++;
    return realloc(p, n);
}

static void c_free(void *ud, void *p)
{
    if (p)
        ((struct counting *)ud)->frees++;
    free(p);
}

static int test_allocator(void)
{
    struct counting cnt = {0, 0};
    canto_allocator user = CANTO_ALLOCATOR_INIT;
    canto__alloc a;
    CHECK_INT(canto__alloc_init(&a, &user), CANTO_EINVAL); /* functions missing */
    user.alloc = c_alloc;
    user.realloc = c_realloc;
    user.free = c_free;
    user.user_data = &cnt;
    user.version = 99;
    CHECK_INT(canto__alloc_init(&a, &user), CANTO_EINVAL);
    user.version = CANTO_ALLOCATOR_VERSION;
    REQUIRE(canto__alloc_init(&a, &user) == 0);

    char *s = canto__owned_strndup(&a, "hello world", 5);
    REQUIRE(s != NULL);
    CHECK_STR(s, "hello");
    CHECK_INT(((uintptr_t)s) % _Alignof(max_align_t), 0);
    s = canto__owned_realloc(s, 100);
    REQUIRE(s != NULL);
    CHECK_STR(s, "hello");
    canto_free(s);
    canto_free(NULL);
    CHECK_INT(cnt.allocs, 1);
    CHECK_INT(cnt.frees, 1);

    CHECK(canto__calloc(&a, SIZE_MAX / 2, 4) == NULL);
    return 0;
}

struct seen {
    int calls;
    canto_log_level level;
    char msg[64];
};

static void on_log(void *ud, canto_log_level level, const char *area, const char *message)
{
    struct seen *s = ud;
    s->calls++;
    s->level = level;
    snprintf(s->msg, sizeof(s->msg), "%s:%s", area, message);
}

static int test_log(void)
{
    struct seen s = {0};
    canto__log log = {on_log, &s, CANTO_LOG_INFO};
    canto__logf(&log, CANTO_LOG_DEBUG, "xml", "hidden %d", 1);
    CHECK_INT(s.calls, 0);
    canto__logf(&log, CANTO_LOG_WARN, "xml", "shown %d", 2);
    CHECK_INT(s.calls, 1);
    CHECK_STR(s.msg, "xml:shown 2");
    CHECK_INT(s.level, CANTO_LOG_WARN);
    canto__log silent = {NULL, NULL, CANTO_LOG_DEBUG};
    canto__logf(&silent, CANTO_LOG_ERROR, "xml", "nobody hears");
    CHECK_STR(canto_log_level_name(CANTO_LOG_ERROR), "error");
    CHECK_STR(canto_log_level_name((canto_log_level)42), "unknown");
    return 0;
}

static int test_utf8(void)
{
    CHECK_INT(canto__xml_text_check("plain", 5), 0);
    CHECK_INT(canto__xml_text_check("caf\xc3\xa9 \xf0\x9f\x98\x80", 10), 0);
    CHECK_INT(canto__xml_text_check("\xc3", 1), CANTO_EUTF8);             /* truncated */
    CHECK_INT(canto__xml_text_check("\xc0\xaf", 2), CANTO_EUTF8);         /* overlong */
    CHECK_INT(canto__xml_text_check("\xed\xa0\x80", 3), CANTO_EUTF8);     /* surrogate */
    CHECK_INT(canto__xml_text_check("\xf4\x90\x80\x80", 4), CANTO_EUTF8); /* > U+10FFFF */
    CHECK_INT(canto__xml_text_check("a\0b", 3), CANTO_EINVAL);
    CHECK_INT(canto__xml_text_check("\x01", 1), CANTO_EINVAL);
    CHECK_INT(canto__xml_text_check("\xef\xbf\xbf", 3), CANTO_EINVAL); /* U+FFFF */
    CHECK_INT(canto__xml_text_check("\t\r\n", 3), 0);
    CHECK_INT(canto__xml_name_check("body", 4), 0);
    CHECK_INT(canto__xml_name_check("origin-id", 9), 0);
    CHECK_INT(canto__xml_name_check("1abc", 4), CANTO_EINVAL);
    CHECK_INT(canto__xml_name_check("a b", 3), CANTO_EINVAL);
    CHECK_INT(canto__xml_name_check("a:b", 3), CANTO_EINVAL);
    CHECK_INT(canto__xml_name_check("", 0), CANTO_EINVAL);
    CHECK_INT(canto__xml_name_check("\xc3\xa9t\xc3\xa9", 5), 0);
    return 0;
}

int main(void)
{
    RUN(test_strerror);
    RUN(test_version);
    RUN(test_allocator);
    RUN(test_log);
    RUN(test_utf8);
    return CHECK_DONE();
}
