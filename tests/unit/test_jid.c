#include "check.h"

#include <stdlib.h>

#include <canto/canto.h>
#include <canto/jid.h>

/* Parse @p in and check every accessor; NULL means "no such part". */
static void expect_jid(const char *in, const char *local, const char *domain, const char *ascii,
                       const char *resource, const char *full, const char *bare, int line)
{
    int before = check_failures;
    canto_jid *j = NULL;
    int rc = canto_jid_parse(NULL, in, &j);
    check_count++;
    if (rc != 0 || !j) {
        check_failures++;
        fprintf(stderr, "%s:%d: parse(\"%s\") failed: %d\n", __FILE__, line, in, rc);
        return;
    }
    CHECK_STR(canto_jid_local(j), local);
    CHECK_STR(canto_jid_domain(j), domain);
    CHECK_STR(canto_jid_domain_ascii(j), ascii);
    CHECK_STR(canto_jid_resource(j), resource);
    CHECK_STR(canto_jid_str(j), full);
    CHECK_STR(canto_jid_bare_str(j), bare);
    CHECK_INT(canto_jid_is_bare(j), resource == NULL);
    if (check_failures != before)
        fprintf(stderr, "  (expectation at line %d, input \"%s\")\n", line, in);
    canto_jid_free(j);
}

#define EXPECT(in, l, d, a, r, f, b) expect_jid(in, l, d, a, r, f, b, __LINE__)

/* canto_jid_parse()'s result; 999 if it failed but left *out set. */
static int parse_rc(const char *in)
{
    canto_jid *j = (canto_jid *)&j;
    int rc = canto_jid_parse(NULL, in, &j);
    if (rc != 0)
        return j == NULL ? rc : 999;
    canto_jid_free(j);
    return 0;
}

/* Parse and return the normalized string in a static buffer ("ERR n" on error). */
static const char *norm(const char *in)
{
    static char buf[4096];
    char *s = NULL;
    int rc = canto_jid_normalize(in, &s);
    if (rc != 0)
        snprintf(buf, sizeof(buf), "ERR %d", rc);
    else
        snprintf(buf, sizeof(buf), "%s", s);
    canto_free(s);
    return buf;
}

static int test_shapes(void)
{
    EXPECT("example.com", NULL, "example.com", "example.com", NULL, "example.com", "example.com");
    EXPECT("user@example.com", "user", "example.com", "example.com", NULL, "user@example.com",
           "user@example.com");
    EXPECT("example.com/res", NULL, "example.com", "example.com", "res", "example.com/res",
           "example.com");
    EXPECT("user@example.com/res", "user", "example.com", "example.com", "res",
           "user@example.com/res", "user@example.com");
    /* The resource is everything after the first '/', '@' and '/' included. */
    EXPECT("user@example.com/a@b/c", "user", "example.com", "example.com", "a@b/c",
           "user@example.com/a@b/c", "user@example.com");
    EXPECT("example.com/@x/", NULL, "example.com", "example.com", "@x/", "example.com/@x/",
           "example.com");
    EXPECT("a@b.example//", "a", "b.example", "b.example", "/", "a@b.example//", "a@b.example");
    EXPECT("localhost", NULL, "localhost", "localhost", NULL, "localhost", "localhost");
    EXPECT("room@conference.localhost/nick", "room", "conference.localhost", "conference.localhost",
           "nick", "room@conference.localhost/nick", "room@conference.localhost");
    EXPECT("a@example.test", "a", "example.test", "example.test", NULL, "a@example.test",
           "a@example.test");
    EXPECT("x@1st-host.example", "x", "1st-host.example", "1st-host.example", NULL,
           "x@1st-host.example", "x@1st-host.example");
    /* The resource is kept as given: case, spaces, non-ASCII. */
    EXPECT("a@b/ My Res \xe2\x98\x83 ", "a", "b", "b", " My Res \xe2\x98\x83 ",
           "a@b/ My Res \xe2\x98\x83 ", "a@b");
    /* ASCII punctuation other than the eight forbidden characters is allowed. */
    EXPECT("a.b+c_d-e!#$%*=?^`{|}~@example.com", "a.b+c_d-e!#$%*=?^`{|}~", "example.com",
           "example.com", NULL, "a.b+c_d-e!#$%*=?^`{|}~@example.com",
           "a.b+c_d-e!#$%*=?^`{|}~@example.com");
    /* An XEP-0106 escaped localpart is an ordinary localpart. */
    EXPECT("c\\3a\\5cnet@example.com", "c\\3a\\5cnet", "example.com", "example.com", NULL,
           "c\\3a\\5cnet@example.com", "c\\3a\\5cnet@example.com");
    return 0;
}

static int test_normalization(void)
{
    EXPECT("User@Example.COM/Res", "user", "example.com", "example.com", "Res",
           "user@example.com/Res", "user@example.com");
    EXPECT("user@example.com./r", "user", "example.com", "example.com", "r", "user@example.com/r",
           "user@example.com");
    EXPECT("example.com.", NULL, "example.com", "example.com", NULL, "example.com", "example.com");
    /* Only ASCII letters are case-mapped in the localpart (no PRECIS library). */
    EXPECT("J\xc3\x9cRGEN@example.com", "j\xc3\x9crgen", "example.com", "example.com", NULL,
           "j\xc3\x9crgen@example.com", "j\xc3\x9crgen@example.com");
    /* IP literals. */
    EXPECT("user@192.168.0.1/r", "user", "192.168.0.1", "192.168.0.1", "r", "user@192.168.0.1/r",
           "user@192.168.0.1");
    EXPECT("10.0.0.1.", NULL, "10.0.0.1", "10.0.0.1", NULL, "10.0.0.1", "10.0.0.1");
    EXPECT("user@[::1]/r", "user", "[::1]", "[::1]", "r", "user@[::1]/r", "user@[::1]");
    EXPECT("[2001:DB8::AbC]", NULL, "[2001:db8::abc]", "[2001:db8::abc]", NULL, "[2001:db8::abc]",
           "[2001:db8::abc]");
    EXPECT("[::FFFF:192.0.2.1]/x", NULL, "[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]", "x",
           "[::ffff:192.0.2.1]/x", "[::ffff:192.0.2.1]");
    return 0;
}

static int test_idn(void)
{
    const char *nihao = "\xe4\xbd\xa0\xe5\xa5\xbd.example";
    EXPECT(nihao, NULL, nihao, "xn--6qq79v.example", NULL, nihao, nihao);
    EXPECT("user@\xe4\xbd\xa0\xe5\xa5\xbd.example/r", "user", nihao, "xn--6qq79v.example", "r",
           "user@\xe4\xbd\xa0\xe5\xa5\xbd.example/r", "user@\xe4\xbd\xa0\xe5\xa5\xbd.example");
    /* A-label input is shown in U-label form. */
    EXPECT("user@xn--6qq79v.example/r", "user", nihao, "xn--6qq79v.example", "r",
           "user@\xe4\xbd\xa0\xe5\xa5\xbd.example/r", "user@\xe4\xbd\xa0\xe5\xa5\xbd.example");
    EXPECT("XN--6QQ79V.Example.", NULL, nihao, "xn--6qq79v.example", NULL, nihao, nihao);
    /* Upper-case non-ASCII letters are mapped by IDNA. */
    EXPECT("\xc3\x84rger.de", NULL, "\xc3\xa4rger.de", "xn--rger-koa.de", NULL, "\xc3\xa4rger.de",
           "\xc3\xa4rger.de");
    /* IDNA2008, not the transitional mapping: sharp s stays. */
    EXPECT("fa\xc3\x9f.de", NULL, "fa\xc3\x9f.de", "xn--fa-hia.de", NULL, "fa\xc3\x9f.de",
           "fa\xc3\x9f.de");
    /* NFC: e + COMBINING ACUTE ACCENT becomes U+00E9. */
    EXPECT("e\xcc\x81.example", NULL, "\xc3\xa9.example", "xn--9ca.example", NULL,
           "\xc3\xa9.example", "\xc3\xa9.example");
    /* Width mapping: fullwidth "ab" is plain "ab". */
    EXPECT("\xef\xbd\x81\xef\xbd\x82.example", NULL, "ab.example", "ab.example", NULL, "ab.example",
           "ab.example");
    /* An A-label next to a U-label. */
    EXPECT("xn--6qq79v.\xe4\xbd\xa0", NULL, "\xe4\xbd\xa0\xe5\xa5\xbd.\xe4\xbd\xa0",
           "xn--6qq79v.xn--6qq", NULL, "\xe4\xbd\xa0\xe5\xa5\xbd.\xe4\xbd\xa0",
           "\xe4\xbd\xa0\xe5\xa5\xbd.\xe4\xbd\xa0");

    CHECK_INT(
        canto_jid_str_equal("user@xn--6qq79v.example", "USER@\xe4\xbd\xa0\xe5\xa5\xbd.EXAMPLE."),
        1);

    /* Bad A-labels. */
    CHECK_INT(parse_rc("xn--a.example"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("xn--abc-.example"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("xn--zzzzzzzzz.example"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("a@xn--.example"), CANTO_EJID_DOMAIN);
    /* Valid Punycode, but not what IDNA2008 would produce for the decoded label:
     * U+00C4 (upper case), U+00AD (dropped), U+FF21 (fullwidth), U+2474. */
    CHECK_INT(parse_rc("xn--7ba.example"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("a@xn--ab-5da.example"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("xn--ph7c.example"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("xn--8rh.example/r"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("xn--4ca.example"), 0); /* U+00E4 is fine */
    /* Characters that IDNA would silently drop are refused instead. */
    CHECK_INT(parse_rc("a\xef\xbc\xa0"
                       "b.example"),
              CANTO_EJID_DOMAIN); /* U+FF20 */
    CHECK_INT(parse_rc("a\xef\xbc\x8f"
                       "b.\xe4\xbd\xa0"),
              CANTO_EJID_DOMAIN); /* U+FF0F */
    CHECK_INT(parse_rc("a\xc2\xa0"
                       "b.\xe4\xbd\xa0"),
              CANTO_EJID_DOMAIN); /* NBSP */
    CHECK_INT(parse_rc("a\xc2\xad"
                       "b.\xe4\xbd\xa0"),
              CANTO_EJID_DOMAIN);                                          /* soft hyphen */
    CHECK_INT(parse_rc("x\xe2\x91\xb4x.\xe4\xbd\xa0"), CANTO_EJID_DOMAIN); /* U+2474 */
    /* ASCII that is not LDH is refused even next to non-ASCII labels. */
    CHECK_INT(parse_rc("a_b.\xe4\xbd\xa0"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("a b.\xe4\xbd\xa0"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("x@a\x01.\xe4\xbd\xa0"), CANTO_EJID_DOMAIN);
    /* Not valid IDNA2008. */
    CHECK_INT(parse_rc("-\xe4\xbd\xa0.example"), CANTO_EJID_DOMAIN);
    CHECK_INT(parse_rc("\xe2\x80\x8d\xe4\xbd\xa0.example"), CANTO_EJID_DOMAIN); /* ZWJ */
    CHECK_INT(parse_rc("\xc2\x80.example"), CANTO_EJID_DOMAIN);                 /* C1 */
    return 0;
}

/* @p n bytes of 62-byte labels "xx...x.xx...x" (never ending with a dot). */
static char *make_domain(size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = i % 63 == 62 ? '.' : 'x';
    s[n] = '\0';
    return s;
}

static char *repeat(char c, size_t n, const char *prefix, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + n + sl + 1);
    if (!s)
        return NULL;
    memcpy(s, prefix, pl);
    memset(s + pl, c, n);
    memcpy(s + pl + n, suffix, sl + 1);
    return s;
}

static int test_errors(void)
{
    canto_jid *j = (canto_jid *)&j;
    CHECK_INT(canto_jid_parse(NULL, NULL, &j), CANTO_EINVAL);
    CHECK(j == NULL);
    CHECK_INT(canto_jid_parse(NULL, "a@b", NULL), CANTO_EINVAL);
    canto_allocator bad = CANTO_ALLOCATOR_INIT;
    CHECK_INT(canto_jid_parse(&bad, "a@b", &j), CANTO_EINVAL);

    /* UTF-8, in each part. */
    CHECK_INT(parse_rc("\xff@example.com"), CANTO_EUTF8);
    CHECK_INT(parse_rc("a@exam\xc3(ple.com"), CANTO_EUTF8);
    CHECK_INT(parse_rc("a@example.com/\xc3"), CANTO_EUTF8);
    CHECK_INT(parse_rc("a@example.com/\xed\xa0\x80"), CANTO_EUTF8); /* surrogate */
    CHECK_INT(parse_rc("\xc0\xaf@example.com"), CANTO_EUTF8);       /* overlong */

    /* Localpart. */
    CHECK_INT(parse_rc("@example.com"), CANTO_EJID_LOCAL);
    CHECK_INT(parse_rc("@example.com/r"), CANTO_EJID_LOCAL);
    CHECK_INT(parse_rc("@"), CANTO_EJID_LOCAL);
    const char *bad_local[] = {"a b",           "a\"b",         "a&b",       "a'b",
                               "a:b",           "a<b",          "a>b",       "a\tb",
                               "a\x7f",         "a\xc2\x85",    "a\xc2\xa0", "a\xe3\x80\x80",
                               "a\xef\xbc\xa0", "a\xef\xbf\xbe"};
    for (size_t i = 0; i < sizeof(bad_local) / sizeof(bad_local[0]); i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s@example.com/r", bad_local[i]);
        int rc = parse_rc(buf);
        CHECK_INT(rc, CANTO_EJID_LOCAL);
        if (rc != CANTO_EJID_LOCAL)
            fprintf(stderr, "  localpart #%zu\n", i);
    }

    /* Domainpart. */
    const char *bad_domain[] = {
        "",     "a@",    "/r",    "a@/r",         ".",         "a@.",       "..",
        "a..b", ".a",    "a.b..", "exa mple.com", "a_b.com",   "-a.com",    "a-.com",
        "a.-b", "a@b@c", "[::1",  "[zz::1]",      "[1.2.3.4]", "[]",        "[::1]x",
        "::1",  "a,b",   "a\\b",  "ex*ample",     "a@xn--",    "[::1%eth0]"};
    for (size_t i = 0; i < sizeof(bad_domain) / sizeof(bad_domain[0]); i++) {
        int rc = parse_rc(bad_domain[i]);
        CHECK_INT(rc, CANTO_EJID_DOMAIN);
        if (rc != CANTO_EJID_DOMAIN)
            fprintf(stderr, "  domainpart #%zu \"%s\"\n", i, bad_domain[i]);
    }
    char *label = repeat('a', 64, "", ".com");
    REQUIRE(label);
    CHECK_INT(parse_rc(label), CANTO_EJID_DOMAIN); /* 64-byte label */
    CHECK_INT(parse_rc(label + 1), 0);             /* 63-byte label */
    free(label);

    /* Resourcepart. */
    CHECK_INT(parse_rc("a@example.com/"), CANTO_EJID_RESOURCE);
    CHECK_INT(parse_rc("example.com/"), CANTO_EJID_RESOURCE);
    CHECK_INT(parse_rc("a@example.com/x\x01"), CANTO_EJID_RESOURCE);
    CHECK_INT(parse_rc("a@example.com/\tx"), CANTO_EJID_RESOURCE);
    CHECK_INT(parse_rc("a@example.com/x\x7f"), CANTO_EJID_RESOURCE);
    CHECK_INT(parse_rc("a@example.com/x\xc2\x9f"), CANTO_EJID_RESOURCE);
    CHECK_INT(parse_rc("a@example.com/x\xef\xbf\xbf"), CANTO_EJID_RESOURCE);

    /* Parts are checked in order: local, domain, resource. */
    CHECK_INT(parse_rc("a b@/"), CANTO_EJID_LOCAL);
    CHECK_INT(parse_rc("a@b_c/"), CANTO_EJID_DOMAIN);
    return 0;
}

static int test_boundaries(void)
{
    char *s;
    s = repeat('a', 1023, "", "@example.com");
    REQUIRE(s);
    CHECK_INT(parse_rc(s), 0);
    free(s);
    s = repeat('a', 1024, "", "@example.com");
    REQUIRE(s);
    CHECK_INT(parse_rc(s), CANTO_EJID_LOCAL);
    free(s);

    s = repeat('r', 1023, "a@example.com/", "");
    REQUIRE(s);
    CHECK_INT(parse_rc(s), 0);
    free(s);
    s = repeat('r', 1024, "a@example.com/", "");
    REQUIRE(s);
    CHECK_INT(parse_rc(s), CANTO_EJID_RESOURCE);
    free(s);

    char *d = make_domain(1023);
    REQUIRE(d);
    canto_jid *j = NULL;
    CHECK_INT(canto_jid_parse(NULL, d, &j), 0);
    CHECK_INT(strlen(canto_jid_domain(j) ? canto_jid_domain(j) : ""), 1023);
    canto_jid_free(j);
    free(d);
    d = make_domain(1024);
    REQUIRE(d);
    CHECK_INT(parse_rc(d), CANTO_EJID_DOMAIN);
    d[1023] = '.'; /* 1023 bytes and a trailing dot */
    CHECK_INT(parse_rc(d), 0);
    free(d);

    /* Multi-byte characters count in bytes: 341 * 3 = 1023. */
    s = malloc(3 * 342 + 16);
    REQUIRE(s);
    for (int i = 0; i < 341; i++)
        memcpy(s + 3 * i, "\xe2\x98\x83", 3);
    strcpy(s + 3 * 341, "@example.com");
    CHECK_INT(parse_rc(s), 0);
    memcpy(s + 3 * 341, "\xe2\x98\x83@example.com", 16);
    CHECK_INT(parse_rc(s), CANTO_EJID_LOCAL);
    free(s);

    /* A huge input fails fast with the right part's error. */
    size_t big = 8u << 20;
    s = repeat('r', big, "a@example.com/", "");
    REQUIRE(s);
    CHECK_INT(parse_rc(s), CANTO_EJID_RESOURCE);
    s[0] = '@';
    CHECK_INT(parse_rc(s), CANTO_EJID_LOCAL);
    memset(s, 'd', 13); /* "ddddddddddddd/rrr..." */
    CHECK_INT(parse_rc(s), CANTO_EJID_RESOURCE);
    free(s);
    s = repeat('d', big, "", "");
    REQUIRE(s);
    CHECK_INT(parse_rc(s), CANTO_EJID_DOMAIN);
    free(s);
    return 0;
}

static int test_new(void)
{
    canto_jid *j = NULL;
    CHECK_INT(canto_jid_new(NULL, "User", "Example.COM.", "Res/1", &j), 0);
    REQUIRE(j);
    CHECK_STR(canto_jid_str(j), "user@example.com/Res/1");
    canto_jid_free(j);
    j = NULL;
    CHECK_INT(canto_jid_new(NULL, NULL, "example.com", NULL, &j), 0);
    CHECK_STR(canto_jid_str(j), "example.com");
    CHECK_STR(canto_jid_local(j), NULL);
    CHECK_STR(canto_jid_resource(j), NULL);
    canto_jid_free(j);

    j = (canto_jid *)&j;
    CHECK_INT(canto_jid_new(NULL, "a", NULL, NULL, &j), CANTO_EINVAL);
    CHECK(j == NULL);
    CHECK_INT(canto_jid_new(NULL, "a", "b", NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_jid_new(NULL, "", "example.com", NULL, &j), CANTO_EJID_LOCAL);
    CHECK_INT(canto_jid_new(NULL, "a@b", "example.com", NULL, &j), CANTO_EJID_LOCAL);
    CHECK_INT(canto_jid_new(NULL, "a/b", "example.com", NULL, &j), CANTO_EJID_LOCAL);
    CHECK_INT(canto_jid_new(NULL, "a", "", NULL, &j), CANTO_EJID_DOMAIN);
    CHECK_INT(canto_jid_new(NULL, "a", "b@c", NULL, &j), CANTO_EJID_DOMAIN);
    CHECK_INT(canto_jid_new(NULL, "a", "b/c", NULL, &j), CANTO_EJID_DOMAIN);
    CHECK_INT(canto_jid_new(NULL, "a", "b", "", &j), CANTO_EJID_RESOURCE);
    CHECK(j == NULL);
    return 0;
}

static int test_derived(void)
{
    canto_jid *j = NULL, *c = NULL, *b = NULL, *r = NULL, *r2 = NULL;
    REQUIRE(canto_jid_parse(NULL, "Juliet@XN--6QQ79V.example/Balcony", &j) == 0);

    CHECK_INT(canto_jid_copy(j, &c), 0);
    REQUIRE(c);
    CHECK(c != j);
    CHECK_STR(canto_jid_str(c), canto_jid_str(j));
    CHECK_STR(canto_jid_domain_ascii(c), "xn--6qq79v.example");
    CHECK_INT(canto_jid_equal(c, j), 1);

    CHECK_INT(canto_jid_to_bare(j, &b), 0);
    REQUIRE(b);
    CHECK_STR(canto_jid_str(b), "juliet@\xe4\xbd\xa0\xe5\xa5\xbd.example");
    CHECK_STR(canto_jid_resource(b), NULL);
    CHECK_STR(canto_jid_domain_ascii(b), "xn--6qq79v.example");
    CHECK_INT(canto_jid_is_bare(b), 1);
    CHECK_INT(canto_jid_equal(b, j), 0);
    CHECK_INT(canto_jid_bare_equal(b, j), 1);

    CHECK_INT(canto_jid_with_resource(b, "Orchard@night/1", &r), 0);
    REQUIRE(r);
    CHECK_STR(canto_jid_str(r), "juliet@\xe4\xbd\xa0\xe5\xa5\xbd.example/Orchard@night/1");
    CHECK_STR(canto_jid_bare_str(r), "juliet@\xe4\xbd\xa0\xe5\xa5\xbd.example");
    CHECK_INT(canto_jid_with_resource(r, NULL, &r2), 0);
    CHECK_INT(canto_jid_equal(r2, b), 1);
    canto_jid_free(r2);
    r2 = (canto_jid *)&r2;
    CHECK_INT(canto_jid_with_resource(r, "", &r2), CANTO_EJID_RESOURCE);
    CHECK(r2 == NULL);
    CHECK_INT(canto_jid_with_resource(r, "a\x01", &r2), CANTO_EJID_RESOURCE);
    CHECK_INT(canto_jid_with_resource(r, "\xff", &r2), CANTO_EUTF8);
    CHECK_INT(canto_jid_with_resource(NULL, "x", &r2), CANTO_EINVAL);
    CHECK_INT(canto_jid_with_resource(r, "x", NULL), CANTO_EINVAL);
    CHECK_INT(canto_jid_copy(NULL, &r2), CANTO_EINVAL);
    CHECK_INT(canto_jid_to_bare(NULL, &r2), CANTO_EINVAL);
    CHECK_INT(canto_jid_copy(j, NULL), CANTO_EINVAL);
    CHECK_INT(canto_jid_to_bare(j, NULL), CANTO_EINVAL);

    canto_jid_free(j);
    canto_jid_free(c);
    canto_jid_free(b);
    canto_jid_free(r);
    canto_jid_free(NULL);

    /* Accessors on NULL. */
    CHECK_STR(canto_jid_str(NULL), NULL);
    CHECK_STR(canto_jid_bare_str(NULL), NULL);
    CHECK_STR(canto_jid_local(NULL), NULL);
    CHECK_STR(canto_jid_domain(NULL), NULL);
    CHECK_STR(canto_jid_domain_ascii(NULL), NULL);
    CHECK_STR(canto_jid_resource(NULL), NULL);
    CHECK_INT(canto_jid_is_bare(NULL), 0);
    return 0;
}

static int test_compare(void)
{
    CHECK_INT(canto_jid_str_equal("User@Example.com/R", "user@example.com./R"), 1);
    CHECK_INT(canto_jid_str_equal("user@example.com/R", "user@example.com/r"), 0);
    CHECK_INT(canto_jid_str_equal("user@example.com", "user@example.com/r"), 0);
    CHECK_INT(canto_jid_str_equal("example.com", "user@example.com"), 0);
    CHECK_INT(canto_jid_str_equal("a@b", "a@c"), 0);
    CHECK_INT(canto_jid_str_equal("[::1]", "[::1]"), 1);
    CHECK_INT(canto_jid_str_equal("@b", "a@b"), CANTO_EJID_LOCAL);
    CHECK_INT(canto_jid_str_equal("a@b", "a@b/"), CANTO_EJID_RESOURCE);
    CHECK_INT(canto_jid_str_equal(NULL, "a@b"), CANTO_EINVAL);
    CHECK_INT(canto_jid_str_equal("a@b", NULL), CANTO_EINVAL);
    /* "a@b/c" must not equal the JID whose resource is "c" in another split. */
    CHECK_INT(canto_jid_str_equal("a@b/c@d", "a@b/c@d"), 1);

    canto_jid *a = NULL, *b = NULL, *c = NULL;
    REQUIRE(canto_jid_parse(NULL, "A@B.example/x", &a) == 0);
    REQUIRE(canto_jid_parse(NULL, "a@b.EXAMPLE/y", &b) == 0);
    REQUIRE(canto_jid_parse(NULL, "b.example/x", &c) == 0);
    CHECK_INT(canto_jid_equal(a, b), 0);
    CHECK_INT(canto_jid_bare_equal(a, b), 1);
    CHECK_INT(canto_jid_bare_equal(a, c), 0);
    CHECK_INT(canto_jid_equal(a, a), 1);
    CHECK_INT(canto_jid_equal(a, NULL), 0);
    CHECK_INT(canto_jid_equal(NULL, NULL), 0);
    CHECK_INT(canto_jid_bare_equal(NULL, b), 0);
    canto_jid_free(a);
    canto_jid_free(b);
    canto_jid_free(c);

    CHECK_STR(norm("Romeo@Example.NET./Orchard"), "romeo@example.net/Orchard");
    CHECK_STR(norm("xn--6qq79v.example"), "\xe4\xbd\xa0\xe5\xa5\xbd.example");
    CHECK_STR(norm("a b@c"), "ERR -8");
    char *s = (char *)&s;
    CHECK_INT(canto_jid_normalize(NULL, &s), CANTO_EINVAL);
    CHECK(s == NULL);
    CHECK_INT(canto_jid_normalize("a@b", NULL), CANTO_EINVAL);
    return 0;
}

/* escape(@p in) must give @p escaped and unescape(@p escaped) must give @p in. */
static void expect_escape(const char *in, const char *escaped, int line)
{
    char *e = NULL, *u = NULL;
    int rc = canto_jid_escape_local(in, &e);
    check_count++;
    if (rc != 0 || !e || strcmp(e, escaped) != 0) {
        check_failures++;
        fprintf(stderr, "%s:%d: escape(\"%s\") = %d \"%s\", expected \"%s\"\n", __FILE__, line, in,
                rc, e ? e : "(null)", escaped);
    }
    rc = canto_jid_unescape_local(escaped, &u);
    check_count++;
    if (rc != 0 || !u || strcmp(u, in) != 0) {
        check_failures++;
        fprintf(stderr, "%s:%d: unescape(\"%s\") = %d \"%s\", expected \"%s\"\n", __FILE__, line,
                escaped, rc, u ? u : "(null)", in);
    }
    canto_free(e);
    canto_free(u);
}

#define EXPECT_ESCAPE(in, out) expect_escape(in, out, __LINE__)

static const char *unesc(const char *in)
{
    static char buf[256];
    char *u = NULL;
    int rc = canto_jid_unescape_local(in, &u);
    if (rc != 0)
        snprintf(buf, sizeof(buf), "ERR %d", rc);
    else
        snprintf(buf, sizeof(buf), "%s", u);
    canto_free(u);
    return buf;
}

static int test_escape(void)
{
    /* XEP-0106 §5.1, examples 1-8 and 12. */
    EXPECT_ESCAPE("space cadet", "space\\20cadet");
    EXPECT_ESCAPE("call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22");
    EXPECT_ESCAPE("at&t guy", "at\\26t\\20guy");
    EXPECT_ESCAPE("d'artagnan", "d\\27artagnan");
    EXPECT_ESCAPE("/.fanboy", "\\2f.fanboy");
    EXPECT_ESCAPE("::foo::", "\\3a\\3afoo\\3a\\3a");
    EXPECT_ESCAPE("<foo>", "\\3cfoo\\3e");
    EXPECT_ESCAPE("user@host", "user\\40host");
    EXPECT_ESCAPE("c:\\5commas", "c\\3a\\5c5commas");
    /* Examples 9-11: the XEP's table escapes every backslash, but its rules
     * (§4.1 rule 7, §4.3) escape one only before an escape sequence, and a
     * lone backslash is left alone. Both forms unescape to the input. */
    EXPECT_ESCAPE("c:\\net", "c\\3a\\net");
    EXPECT_ESCAPE("c:\\\\net", "c\\3a\\\\net");
    EXPECT_ESCAPE("c:\\cool stuff", "c\\3a\\cool\\20stuff");
    CHECK_STR(unesc("c\\3a\\5cnet"), "c:\\net");
    CHECK_STR(unesc("c\\3a\\5c\\5cnet"), "c:\\\\net");
    CHECK_STR(unesc("c\\3a\\5ccool\\20stuff"), "c:\\cool stuff");
    /* Other examples from the XEP and the header. */
    EXPECT_ESCAPE("d'artagnan@example", "d\\27artagnan\\40example");
    EXPECT_ESCAPE("here's_a_wild_&_/cr%zy/_address", "here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address");
    EXPECT_ESCAPE("\\3and\\2is\\5cool", "\\5c3and\\2is\\5c5cool");
    /* §4.3: partial and unknown sequences are not touched either way. */
    EXPECT_ESCAPE("\\2plus\\2is\\4", "\\2plus\\2is\\4");
    EXPECT_ESCAPE("foo\\bar", "foo\\bar");
    EXPECT_ESCAPE("foob\\41r", "foob\\41r");
    EXPECT_ESCAPE("a\\b", "a\\b");
    EXPECT_ESCAPE("a\\5c", "a\\5c5c");
    EXPECT_ESCAPE("trailing\\", "trailing\\");
    EXPECT_ESCAPE("a\\2", "a\\2");
    /* Upper-case sequences are decoded, so they are escaped too. */
    EXPECT_ESCAPE("a\\2F", "a\\5c2F");
    CHECK_STR(unesc("a\\2Fb\\3A\\5C"), "a/b:\\");
    /* All ten characters, and a backslash next to an escaped character. */
    EXPECT_ESCAPE("x \"&'/:<>@\\20x", "x\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c20x");
    EXPECT_ESCAPE("a\\ b", "a\\\\20b");
    EXPECT_ESCAPE("a\\@", "a\\\\40");
    EXPECT_ESCAPE("\xc3\xa9t\xc3\xa9 \xe2\x98\x83", "\xc3\xa9t\xc3\xa9\\20\xe2\x98\x83");
    EXPECT_ESCAPE("plain", "plain");

    /* The escaped form is a valid localpart. */
    char *e = NULL;
    REQUIRE(canto_jid_escape_local("call me \"ishmael\"", &e) == 0);
    canto_jid *j = NULL;
    CHECK_INT(canto_jid_new(NULL, e, "example.com", NULL, &j), 0);
    CHECK_STR(canto_jid_str(j), "call\\20me\\20\\22ishmael\\22@example.com");
    canto_jid_free(j);
    canto_free(e);

    /* Errors. */
    e = (char *)&e;
    CHECK_INT(canto_jid_escape_local(NULL, &e), CANTO_EINVAL);
    CHECK(e == NULL);
    CHECK_INT(canto_jid_escape_local("a", NULL), CANTO_EINVAL);
    CHECK_INT(canto_jid_escape_local("", &e), CANTO_EINVAL);
    CHECK_INT(canto_jid_escape_local(" a", &e), CANTO_EINVAL);
    CHECK_INT(canto_jid_escape_local("a ", &e), CANTO_EINVAL);
    CHECK_INT(canto_jid_escape_local(" ", &e), CANTO_EINVAL);
    CHECK_INT(canto_jid_escape_local("a\xff", &e), CANTO_EUTF8);
    CHECK_INT(canto_jid_unescape_local(NULL, &e), CANTO_EINVAL);
    CHECK_INT(canto_jid_unescape_local("a", NULL), CANTO_EINVAL);
    CHECK_INT(canto_jid_unescape_local("a\\20\xc3", &e), CANTO_EUTF8);
    CHECK(e == NULL);
    CHECK_STR(unesc(""), "");
    CHECK_STR(unesc("\\"), "\\");
    CHECK_STR(unesc("\\2"), "\\2");
    CHECK_STR(unesc("\\20"), " ");
    CHECK_STR(unesc("\\5c20"), "\\20");
    CHECK_STR(unesc("\\41\\2g\\\\40"), "\\41\\2g\\@");
    return 0;
}

struct counting {
    int allocs, frees, fail_after;
};

static void *c_alloc(void *ud, size_t n)
{
    struct counting *c = ud;
    if (c->fail_after >= 0 && c->allocs >= c->fail_after)
        return NULL;
    c->allocs++;
    return malloc(n);
}

static void *c_realloc(void *ud, void *p, size_t n)
{
    if (!p)
        return c_alloc(ud, n);
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
    struct counting cnt = {0, 0, -1};
    canto_allocator al = CANTO_ALLOCATOR_INIT;
    al.alloc = c_alloc;
    al.realloc = c_realloc;
    al.free = c_free;
    al.user_data = &cnt;

    canto_jid *j = NULL, *c = NULL, *b = NULL, *r = NULL, *n = NULL;
    REQUIRE(canto_jid_parse(&al, "user@xn--6qq79v.example/res", &j) == 0);
    CHECK_INT(cnt.allocs, 1); /* one allocation per JID */
    CHECK_INT(canto_jid_copy(j, &c), 0);
    CHECK_INT(canto_jid_to_bare(j, &b), 0);
    CHECK_INT(canto_jid_with_resource(j, "other", &r), 0);
    CHECK_INT(canto_jid_new(&al, "u", "example.com", NULL, &n), 0);
    CHECK_INT(cnt.allocs, 5); /* derived JIDs use the original's allocator */
    CHECK_INT(cnt.frees, 0);
    canto_jid_free(j);
    canto_jid_free(c);
    canto_jid_free(b);
    canto_jid_free(r);
    canto_jid_free(n);
    CHECK_INT(cnt.frees, 5);
    CHECK_INT(cnt.allocs, cnt.frees);

    /* Failures allocate nothing. */
    canto_jid *x = NULL;
    CHECK_INT(canto_jid_parse(&al, "a b@c", &x), CANTO_EJID_LOCAL);
    CHECK_INT(cnt.allocs, 5);

    /* An allocator that refuses. */
    cnt = (struct counting){0, 0, 0};
    x = (canto_jid *)&x;
    CHECK_INT(canto_jid_parse(&al, "a@b/c", &x), CANTO_ENOMEM);
    CHECK(x == NULL);
    CHECK_INT(canto_jid_new(&al, NULL, "b", NULL, &x), CANTO_ENOMEM);
    cnt.fail_after = 1;
    REQUIRE(canto_jid_parse(&al, "a@b/c", &j) == 0);
    CHECK_INT(canto_jid_copy(j, &x), CANTO_ENOMEM);
    CHECK_INT(canto_jid_to_bare(j, &x), CANTO_ENOMEM);
    CHECK_INT(canto_jid_with_resource(j, "d", &x), CANTO_ENOMEM);
    CHECK(x == NULL);
    canto_jid_free(j);
    CHECK_INT(cnt.allocs, 1);
    CHECK_INT(cnt.frees, 1);
    return 0;
}

int main(void)
{
    RUN(test_shapes);
    RUN(test_normalization);
    RUN(test_idn);
    RUN(test_errors);
    RUN(test_boundaries);
    RUN(test_new);
    RUN(test_derived);
    RUN(test_compare);
    RUN(test_escape);
    RUN(test_allocator);
    return CHECK_DONE();
}
