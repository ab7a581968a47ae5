#include "check.h"

#include <stdlib.h>

#include <canto/canto.h>

/* Serialize and compare; frees the string. */
static int ser_is(const canto_stanza *s, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    int rc = canto_stanza_to_string(s, &out, &len);
    int ok = rc == 0 && out && strlen(out) == len && strcmp(out, want) == 0;
    if (!ok)
        fprintf(stderr, "  got:  %s\n  want: %s\n", out ? out : "(null)", want);
    canto_free(out);
    return ok;
}

static int test_build_and_read(void)
{
    canto_stanza *m = NULL, *body, *x;
    REQUIRE(canto_stanza_new(NULL, "message", CANTO_NS_CLIENT, &m) == 0);
    CHECK_INT(canto_stanza_kind(m), CANTO_NODE_ELEMENT);
    CHECK_STR(canto_stanza_name(m), "message");
    CHECK_STR(canto_stanza_ns(m), "jabber:client");
    CHECK_INT(canto_stanza_set_attr(m, "to", "juliet@example.com"), 0);
    CHECK_INT(canto_stanza_set_attr(m, "type", "chat"), 0);
    CHECK_INT(canto_stanza_set_attr(m, "type", "normal"), 0); /* replaces */
    CHECK_INT(canto_stanza_attr_count(m), 2);
    CHECK_STR(canto_stanza_attr(m, "type"), "normal");
    CHECK(canto_stanza_attr(m, "from") == NULL);
    CHECK_INT(canto_stanza_add_child(m, "body", NULL, &body), 0);
    CHECK_STR(canto_stanza_ns(body), "jabber:client"); /* inherited */
    CHECK_INT(canto_stanza_set_text(body, "Art thou not Romeo?"), 0);
    CHECK_INT(canto_stanza_add_child(m, "x", "urn:example", &x), 0);
    CHECK_INT(canto_stanza_set_attr_ns(x, "urn:other", "flag", "1"), 0);
    CHECK_STR(canto_stanza_attr_ns(x, "urn:other", "flag"), "1");
    CHECK(canto_stanza_attr(x, "flag") == NULL);
    CHECK_STR(canto_stanza_child_text(m, "body", NULL), "Art thou not Romeo?");
    CHECK(canto_stanza_child(m, "body", "urn:wrong") == NULL);
    CHECK(canto_stanza_child(m, NULL, "urn:example") == x);
    CHECK(canto_stanza_parent(x) == m);
    CHECK(canto_stanza_root(x) == m);
    CHECK(canto_stanza_first(m) == body);
    CHECK(canto_stanza_next(body) == x);
    CHECK(canto_stanza_next(x) == NULL);
    CHECK_INT(canto_stanza_child_count(m), 2);
    CHECK(canto_stanza_is(m, "message", CANTO_NS_CLIENT));
    CHECK(!canto_stanza_is(m, "iq", NULL));
    CHECK(canto_stanza_is(x, NULL, "urn:example"));

    const char *ns, *name, *value;
    CHECK_INT(canto_stanza_attr_at(m, 0, &ns, &name, &value), 0);
    CHECK_STR(name, "to");
    CHECK(ns == NULL);
    CHECK_INT(canto_stanza_attr_at(m, 2, &ns, &name, &value), CANTO_EINVAL);

    CHECK(ser_is(m, "<message xmlns='jabber:client' to='juliet@example.com' type='normal'>"
                    "<body>Art thou not Romeo?</body>"
                    "<x xmlns='urn:example' xmlns:ns0='urn:other' ns0:flag='1'/></message>"));

    /* Removing an attribute keeps the order of the rest. */
    CHECK_INT(canto_stanza_set_attr(m, "to", NULL), 0);
    CHECK_INT(canto_stanza_set_attr(m, "absent", NULL), 0);
    CHECK_INT(canto_stanza_attr_count(m), 1);
    CHECK_STR(canto_stanza_attr(m, "type"), "normal");
    canto_stanza_free(m);
    return 0;
}

static int test_text_nodes(void)
{
    canto_stanza *p;
    REQUIRE(canto_stanza_new(NULL, "p", "http://www.w3.org/1999/xhtml", &p) == 0);
    CHECK_STR(canto_stanza_text(p), "");
    CHECK_INT(canto_stanza_add_text(p, "one ", 4), 0);
    canto_stanza *b;
    CHECK_INT(canto_stanza_add_child(p, "b", NULL, &b), 0);
    CHECK_INT(canto_stanza_set_text(b, "bold"), 0);
    CHECK_INT(canto_stanza_add_text(p, "two", 3), 0);
    CHECK_STR(canto_stanza_text(p), "one two");
    CHECK_INT(canto_stanza_child_count(p), 3);
    CHECK(canto_stanza_first_element(p) == b);
    CHECK(canto_stanza_next_element(b) == NULL);
    CHECK_INT(canto_stanza_kind(canto_stanza_first(p)), CANTO_NODE_TEXT);
    CHECK_STR(canto_stanza_text(canto_stanza_first(p)), "one ");
    CHECK(canto_stanza_name(canto_stanza_first(p)) == NULL);
    /* The joined cache must follow changes. */
    CHECK_INT(canto_stanza_add_text(p, "!", 1), 0);
    CHECK_STR(canto_stanza_text(p), "one two!");
    CHECK_INT(canto_stanza_set_text(canto_stanza_first(p), "uno "), 0);
    CHECK_STR(canto_stanza_text(p), "uno two!");
    CHECK(ser_is(p, "<p xmlns='http://www.w3.org/1999/xhtml'>uno <b>bold</b>two!</p>"));
    /* set_text on the element replaces every text child, keeps elements. */
    CHECK_INT(canto_stanza_set_text(p, "only"), 0);
    CHECK_INT(canto_stanza_child_count(p), 2);
    CHECK_STR(canto_stanza_text(p), "only");
    CHECK(ser_is(p, "<p xmlns='http://www.w3.org/1999/xhtml'><b>bold</b>only</p>"));
    CHECK_INT(canto_stanza_set_text(p, NULL), 0);
    CHECK_INT(canto_stanza_child_count(p), 1);
    CHECK_INT(canto_stanza_add_text(p, NULL, 0), 0);
    CHECK_INT(canto_stanza_add_text(p, NULL, 3), CANTO_EINVAL);
    canto_stanza_free(p);
    return 0;
}

static int test_escaping_and_validation(void)
{
    canto_stanza *m;
    REQUIRE(canto_stanza_new_message(NULL, "chat", "a&b@x", "id'1\"", "1 < 2 & 3 > 2\r\n\t'\"",
                                     &m) == 0);
    CHECK(ser_is(m,
                 "<message xmlns='jabber:client' type='chat' to='a&amp;b@x' id='id&apos;1&quot;'>"
                 "<body>1 &lt; 2 &amp; 3 &gt; 2&#13;\n\t'\"</body></message>"));
    CHECK_INT(canto_stanza_set_attr(m, "bad name", "x"), CANTO_EINVAL);
    CHECK_INT(canto_stanza_set_attr(m, "p:x", "x"), CANTO_EINVAL);
    CHECK_INT(canto_stanza_set_attr(m, "ok", "\xff"), CANTO_EUTF8);
    CHECK_INT(canto_stanza_set_attr(m, "ok", "a\x01z"), CANTO_EINVAL);
    CHECK_INT(canto_stanza_set_text(m, "\xc3\x28"), CANTO_EUTF8);
    CHECK_INT(canto_stanza_add_child(m, "", NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_stanza_add_child(m, "9x", NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_stanza_set_name(m, NULL), CANTO_EINVAL);
    CHECK_INT(canto_stanza_set_ns(m, "\xfe"), CANTO_EUTF8);
    /* Failed edits leave the tree unchanged. */
    CHECK_STR(canto_stanza_child_text(m, "body", NULL), "1 < 2 & 3 > 2\r\n\t'\"");
    CHECK_INT(canto_stanza_attr_count(m), 3);

    /* xml:lang under either spelling. */
    CHECK_INT(canto_stanza_set_attr(m, "xml:lang", "en"), 0);
    CHECK_STR(canto_stanza_attr_ns(m, "http://www.w3.org/XML/1998/namespace", "lang"), "en");
    CHECK_INT(canto_stanza_set_attr_ns(m, "http://www.w3.org/XML/1998/namespace", "lang", "de"), 0);
    CHECK_STR(canto_stanza_attr(m, "xml:lang"), "de");
    CHECK_INT(canto_stanza_attr_count(m), 4);
    canto_stanza_free(m);

    CHECK_INT(canto_stanza_new(NULL, NULL, NULL, &m), CANTO_EINVAL);
    CHECK(m == NULL);
    CHECK_INT(canto_stanza_new(NULL, "a", NULL, NULL), CANTO_EINVAL);
    canto_stanza_free(NULL);
    return 0;
}

static int test_namespaces(void)
{
    canto_stanza *iq, *q, *item, *none;
    REQUIRE(canto_stanza_new_iq(NULL, "set", NULL, "r1", &iq) == 0);
    CHECK_INT(canto_stanza_add_child(iq, "query", "jabber:iq:roster", &q), 0);
    CHECK_INT(canto_stanza_add_child(q, "item", NULL, &item), 0);
    CHECK_INT(canto_stanza_set_attr(item, "jid", "romeo@example.net"), 0);
    CHECK_INT(canto_stanza_add_child(item, "none", "", &none), 0);
    CHECK_INT(canto_stanza_set_ns(none, NULL), 0);
    CHECK(ser_is(iq, "<iq xmlns='jabber:client' type='set' id='r1'>"
                     "<query xmlns='jabber:iq:roster'><item jid='romeo@example.net'>"
                     "<none xmlns=''/></item></query></iq>"));
    /* A subtree serialized alone declares its namespace. */
    CHECK(ser_is(item,
                 "<item xmlns='jabber:iq:roster' jid='romeo@example.net'><none xmlns=''/></item>"));
    canto_stanza_free(iq);
    return 0;
}

static int test_find(void)
{
    canto_stanza *iq, *q, *i1, *i2, *g;
    REQUIRE(canto_stanza_new_iq(NULL, "result", NULL, "x", &iq) == 0);
    CHECK_INT(canto_stanza_add_child(iq, "query", "jabber:iq:roster", &q), 0);
    CHECK_INT(canto_stanza_add_child(q, "item", NULL, &i1), 0);
    CHECK_INT(canto_stanza_add_child(q, "item", NULL, &i2), 0);
    CHECK_INT(canto_stanza_add_child(i2, "group", NULL, &g), 0);
    CHECK(canto_stanza_find(iq, "query") == q);
    CHECK(canto_stanza_find(iq, "{jabber:iq:roster}query/item") == i1);
    CHECK(canto_stanza_find(iq, "{jabber:iq:roster}query/item/group") == g); /* backtracks */
    CHECK(canto_stanza_find(iq, "*/*/group") == g);
    CHECK(canto_stanza_find(iq, "{urn:nope}query") == NULL);
    CHECK(canto_stanza_find(iq, "query/") == NULL);
    CHECK(canto_stanza_find(iq, "{unterminated") == NULL);
    CHECK(canto_stanza_find(iq, "") == NULL);
    CHECK(canto_stanza_find(iq, "quer") == NULL);
    CHECK(canto_stanza_child(q, "item", NULL) == i1);
    CHECK(canto_stanza_next_match(i1, "item", NULL) == i2);
    CHECK(canto_stanza_next_match(i2, "item", NULL) == NULL);
    canto_stanza_free(iq);
    return 0;
}

static int test_copy_remove_replace_refs(void)
{
    canto_stanza *a, *b, *child, *copy, *kept;
    REQUIRE(canto_stanza_new_message(NULL, "chat", "x@y", "1", "hello", &a) == 0);
    REQUIRE(canto_stanza_new(NULL, "thread", CANTO_NS_CLIENT, &b) == 0);
    CHECK_INT(canto_stanza_set_text(b, "t1"), 0);
    CHECK_INT(canto_stanza_append_copy(a, b, &copy), 0);
    canto_stanza_free(b); /* the copy does not depend on b */
    CHECK_STR(canto_stanza_text(copy), "t1");
    CHECK(ser_is(a, "<message xmlns='jabber:client' type='chat' to='x@y' id='1'>"
                    "<body>hello</body><thread>t1</thread></message>"));
    /* Copy of self into self is refused. */
    CHECK_INT(canto_stanza_append_copy(copy, a, NULL), CANTO_EINVAL);
    CHECK_INT(canto_stanza_append_copy(a, a, NULL), CANTO_EINVAL);

    child = canto_stanza_child(a, "body", NULL);
    kept = canto_stanza_ref(child); /* keeps the whole tree */
    CHECK_INT(canto_stanza_remove(child), 0);
    CHECK(canto_stanza_parent(child) == NULL);
    CHECK_INT(canto_stanza_remove(child), CANTO_EINVAL);
    CHECK_INT(canto_stanza_remove(a), CANTO_EINVAL);
    CHECK(ser_is(a, "<message xmlns='jabber:client' type='chat' to='x@y' id='1'>"
                    "<thread>t1</thread></message>"));
    CHECK_STR(canto_stanza_text(kept), "hello"); /* still valid after removal */

    canto_stanza *deep;
    CHECK_INT(canto_stanza_copy(a, &deep), 0);
    canto_stanza *repl;
    CHECK_INT(canto_stanza_replace(canto_stanza_child(deep, "thread", NULL), kept, &repl), 0);
    CHECK(ser_is(deep, "<message xmlns='jabber:client' type='chat' to='x@y' id='1'>"
                       "<body>hello</body></message>"));
    canto_stanza_free(a); /* kept still holds the tree */
    CHECK_STR(canto_stanza_text(kept), "hello");
    canto_stanza_free(kept); /* last reference */
    canto_stanza *deepcopy_of_child;
    CHECK_INT(canto_stanza_copy(repl, &deepcopy_of_child), 0);
    CHECK(canto_stanza_parent(deepcopy_of_child) == NULL);
    CHECK(ser_is(deepcopy_of_child, "<body xmlns='jabber:client'>hello</body>"));
    canto_stanza_free(deepcopy_of_child);
    canto_stanza_free(deep);
    return 0;
}

static int test_deep_tree(void)
{
    /* Serializer and copy must not recurse: 200 000 levels would blow the stack. */
    canto_stanza *root, *cur;
    REQUIRE(canto_stanza_new(NULL, "a", NULL, &root) == 0);
    cur = root;
    for (int i = 0; i < 200000; i++)
        REQUIRE(canto_stanza_add_child(cur, "a", NULL, &cur) == 0);
    char *out;
    size_t len;
    REQUIRE(canto_stanza_to_string(root, &out, &len) == 0);
    CHECK_INT(len, 200000 * 7 + 4);
    canto_free(out);
    canto_stanza *copy;
    CHECK_INT(canto_stanza_copy(root, &copy), 0);
    canto_stanza_free(copy);
    canto_stanza_free(root);
    return 0;
}

static int test_constructors(void)
{
    canto_stanza *s;
    CHECK_INT(canto_stanza_new_message(NULL, "bogus", NULL, NULL, NULL, &s), CANTO_EINVAL);
    CHECK(s == NULL);
    CHECK_INT(canto_stanza_new_message(NULL, NULL, NULL, NULL, NULL, &s), 0);
    CHECK(ser_is(s, "<message xmlns='jabber:client'/>"));
    canto_stanza_free(s);
    CHECK_INT(canto_stanza_new_presence(NULL, "available", NULL, &s), CANTO_EINVAL);
    CHECK_INT(canto_stanza_new_presence(NULL, NULL, NULL, &s), 0);
    CHECK(ser_is(s, "<presence xmlns='jabber:client'/>"));
    canto_stanza_free(s);
    CHECK_INT(canto_stanza_new_presence(NULL, "subscribe", "r@x", &s), 0);
    CHECK(ser_is(s, "<presence xmlns='jabber:client' type='subscribe' to='r@x'/>"));
    canto_stanza_free(s);
    CHECK_INT(canto_stanza_new_iq(NULL, "get", NULL, NULL, &s), CANTO_EINVAL);
    CHECK_INT(canto_stanza_new_iq(NULL, "fetch", NULL, "1", &s), CANTO_EINVAL);
    CHECK_INT(canto_stanza_new_iq(NULL, NULL, NULL, "1", &s), CANTO_EINVAL);
    CHECK_INT(canto_stanza_new_iq(NULL, "get", "example.com", "1", &s), 0);
    CHECK(ser_is(s, "<iq xmlns='jabber:client' type='get' to='example.com' id='1'/>"));
    canto_stanza_free(s);
    CHECK_INT(canto_stanza_new_message(NULL, "chat", "\xff", NULL, NULL, &s), CANTO_EUTF8);
    return 0;
}

static int test_error_replies(void)
{
    canto_stanza *req, *q, *reply;
    REQUIRE(canto_stanza_new_iq(NULL, "get", "me@x/r", "q7", &req) == 0);
    CHECK_INT(canto_stanza_set_attr(req, "from", "you@y/z"), 0);
    CHECK_INT(canto_stanza_add_child(req, "query", "urn:unknown", &q), 0);
    CHECK_INT(canto_stanza_new_error_reply(req, CANTO_ERROR_CANCEL, CANTO_COND_SERVICE_UNAVAILABLE,
                                           "no such service", &reply),
              0);
    CHECK(ser_is(reply, "<iq xmlns='jabber:client' id='q7' to='you@y/z' from='me@x/r' type='error'>"
                        "<error type='cancel'><service-unavailable "
                        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such service</text>"
                        "</error></iq>"));
    canto_stanza_error e = CANTO_STANZA_ERROR_INIT;
    CHECK_INT(canto_stanza_get_error(reply, &e), 0);
    CHECK_INT(e.type, CANTO_ERROR_CANCEL);
    CHECK_INT(e.condition, CANTO_COND_SERVICE_UNAVAILABLE);
    CHECK_STR(e.condition_name, "service-unavailable");
    CHECK_STR(e.text, "no such service");
    CHECK(e.app == NULL);
    /* Never answer an error with an error. */
    canto_stanza *again;
    CHECK_INT(canto_stanza_new_error_reply(reply, CANTO_ERROR_CANCEL, CANTO_COND_BAD_REQUEST, NULL,
                                           &again),
              CANTO_EINVAL);
    CHECK_INT(canto_stanza_new_error_reply(req, (canto_error_type)99, CANTO_COND_BAD_REQUEST, NULL,
                                           &again),
              CANTO_EINVAL);
    CHECK_INT(
        canto_stanza_new_error_reply(req, CANTO_ERROR_MODIFY, CANTO_COND_UNKNOWN, NULL, &again),
        CANTO_EINVAL);
    CHECK_INT(
        canto_stanza_new_error_reply(q, CANTO_ERROR_MODIFY, CANTO_COND_BAD_REQUEST, NULL, &again),
        CANTO_EINVAL); /* not a stanza */
    canto_stanza_free(reply);

    /* Message errors carry the original payload; app conditions and redirects read back. */
    canto_stanza *m, *r2, *err, *gone, *app;
    REQUIRE(canto_stanza_new_message(NULL, "chat", "a@b", "m1", "hi", &m) == 0);
    CHECK_INT(canto_stanza_new_error_reply(m, CANTO_ERROR_MODIFY, CANTO_COND_GONE, NULL, &r2), 0);
    CHECK_STR(canto_stanza_child_text(r2, "body", NULL), "hi");
    err = canto_stanza_child(r2, "error", NULL);
    gone = canto_stanza_child(err, "gone", CANTO_NS_STANZAS);
    CHECK_INT(canto_stanza_set_text(gone, "xmpp:new@example.org"), 0);
    CHECK_INT(canto_stanza_add_child(err, "too-many", "urn:app", &app), 0);
    canto_stanza_error e2 = CANTO_STANZA_ERROR_INIT;
    CHECK_INT(canto_stanza_get_error(r2, &e2), 0);
    CHECK_INT(e2.type, CANTO_ERROR_MODIFY);
    CHECK_INT(e2.condition, CANTO_COND_GONE);
    CHECK_STR(e2.redirect, "xmpp:new@example.org");
    CHECK(e2.app == app);
    CHECK(e2.text == NULL);
    canto_stanza_error bad = CANTO_STANZA_ERROR_INIT;
    bad.version = 77;
    CHECK_INT(canto_stanza_get_error(r2, &bad), CANTO_EINVAL);
    canto_stanza_error none = CANTO_STANZA_ERROR_INIT;
    CHECK_INT(canto_stanza_get_error(m, &none), CANTO_ENOTFOUND);
    canto_stanza_free(r2);
    canto_stanza_free(m);
    canto_stanza_free(req);

    CHECK_STR(canto_error_condition_name(CANTO_COND_UNEXPECTED_REQUEST), "unexpected-request");
    CHECK_INT(canto_error_condition_from_name("jid-malformed"), CANTO_COND_JID_MALFORMED);
    CHECK_INT(canto_error_condition_from_name("nonsense"), CANTO_COND_UNKNOWN);
    CHECK(canto_error_condition_name(CANTO_COND_UNKNOWN) == NULL);
    CHECK_STR(canto_error_type_name(CANTO_ERROR_WAIT), "wait");
    for (int c = CANTO_COND_BAD_REQUEST; c <= CANTO_COND_UNEXPECTED_REQUEST; c++)
        CHECK_INT(canto_error_condition_from_name(canto_error_condition_name(c)), c);
    return 0;
}

struct counting {
    long live, total;
};

static void *c_alloc(void *ud, size_t n)
{
    struct counting *c = ud;
    c->live++;
    c->total++;
    return malloc(n);
}

static void *c_realloc(void *ud, void *p, size_t n)
{
    struct counting *c = ud;
    if (!p) {
        c->live++;
        c->total++;
    }
    return realloc(p, n);
}

static void c_free(void *ud, void *p)
{
    if (p)
        ((struct counting *)ud)->live--;
    free(p);
}

static int test_allocator_and_arena(void)
{
    struct counting cnt = {0, 0};
    canto_allocator a = {CANTO_ALLOCATOR_VERSION, c_alloc, c_realloc, c_free, &cnt};
    canto_stanza *m;
    REQUIRE(canto_stanza_new_message(&a, "chat", "juliet@capulet.example/balcony", "abc123",
                                     "Wherefore art thou?", &m) == 0);
    CHECK_INT(cnt.total, 1); /* a small stanza is one allocation */
    for (int i = 0; i < 500; i++)
        CHECK_INT(canto_stanza_add_child(m, "x", "urn:grow", NULL), 0);
    CHECK(cnt.total > 1);
    char *s;
    CHECK_INT(canto_stanza_to_string(m, &s, NULL), 0);
    canto_stanza *reply;
    CHECK_INT(canto_stanza_new_error_reply(m, CANTO_ERROR_WAIT, CANTO_COND_RESOURCE_CONSTRAINT,
                                           NULL, &reply),
              0);
    canto_stanza_free(m);
    canto_stanza_free(reply);
    CHECK(cnt.live == 1); /* only the string */
    canto_free(s);
    CHECK_INT(cnt.live, 0);
    return 0;
}

/* An allocator that fails after N successful allocations: every public call
 * must report CANTO_ENOMEM cleanly at every failure point and never leak. */
struct failing {
    int left;
    long live;
};

static void *f_alloc(void *ud, size_t n)
{
    struct failing *f = ud;
    if (f->left-- <= 0)
        return NULL;
    f->live++;
    return malloc(n);
}

static void *f_realloc(void *ud, void *p, size_t n)
{
    struct failing *f = ud;
    if (f->left-- <= 0)
        return NULL;
    if (!p)
        f->live++;
    return realloc(p, n);
}

static void f_free(void *ud, void *p)
{
    if (p)
        ((struct failing *)ud)->live--;
    free(p);
}

static int build_big(const canto_allocator *a)
{
    canto_stanza *m, *c, *reply = NULL;
    char *s = NULL;
    int rc = canto_stanza_new_message(a, "chat", "x@y", "1", "body", &m);
    if (rc)
        return rc;
    for (int i = 0; i < 40 && rc == 0; i++) {
        rc = canto_stanza_add_child(m, "item", "urn:x", &c);
        if (rc == 0)
            rc = canto_stanza_set_attr(c, "n", "some value that takes space in the arena");
    }
    if (rc == 0)
        rc = canto_stanza_to_string(m, &s, NULL);
    if (rc == 0)
        rc = canto_stanza_new_error_reply(m, CANTO_ERROR_CANCEL, CANTO_COND_GONE, "t", &reply);
    canto_free(s);
    canto_stanza_free(reply);
    canto_stanza_free(m);
    return rc;
}

static int test_out_of_memory(void)
{
    int succeeded = 0;
    for (int n = 0; n < 60 && !succeeded; n++) {
        struct failing f = {n, 0};
        canto_allocator a = {CANTO_ALLOCATOR_VERSION, f_alloc, f_realloc, f_free, &f};
        int rc = build_big(&a);
        CHECK(rc == 0 || rc == CANTO_ENOMEM);
        CHECK_INT(f.live, 0);
        succeeded = rc == 0;
    }
    CHECK(succeeded);
    return 0;
}

int main(void)
{
    RUN(test_build_and_read);
    RUN(test_text_nodes);
    RUN(test_escaping_and_validation);
    RUN(test_namespaces);
    RUN(test_find);
    RUN(test_copy_remove_replace_refs);
    RUN(test_deep_tree);
    RUN(test_constructors);
    RUN(test_error_replies);
    RUN(test_allocator_and_arena);
    RUN(test_out_of_memory);
    return CHECK_DONE();
}
