/* Service discovery and caps through the public API: parsing canned
 * disco#info/items answers, the XEP-0115 verification string (the XEP's two
 * worked examples), the §5.4 checks, the plugin's own info, the cache's
 * export/import. Network behaviour is covered by test_disco_prosody. */
#include "check.h"

#include <stdlib.h>

#include <canto/canto.h>
#include <canto/disco.h>

#define INFO_NS "http://jabber.org/protocol/disco#info"

static canto_stanza *parse(const char *xml)
{
    canto_stanza *st = NULL;
    if (canto_stanza_parse(NULL, xml, (size_t)-1, &st) != 0)
        return NULL;
    return st;
}

/* Parse the <query/> in @p xml (an iq, or the query itself). */
static int info_from(const char *xml, canto_disco_info **out, const char **detail)
{
    canto_stanza *st = parse(xml);
    if (!st)
        return 1000;
    const canto_stanza *q =
        canto_stanza_is(st, "query", NULL) ? st : canto_stanza_child(st, "query", NULL);
    int rc = canto_disco_info_parse(q, out, detail);
    canto_stanza_free(st);
    return rc;
}

/* XEP-0115 §5.2, the simple example. */
static const char simple_example[] =
    "<iq from='romeo@montague.lit/orchard' id='disco1' to='juliet@capulet.lit/chamber' "
    "type='result'>"
    "<query xmlns='http://jabber.org/protocol/disco#info' "
    "node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>"
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/>"
    "</query></iq>";

/* XEP-0115 §5.3, the complex example (Ψ is U+03A8). */
#define COMPLEX_FORM                                                                               \
    "<x xmlns='jabber:x:data' type='result'>"                                                      \
    "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"  \
    "<field var='ip_version'><value>ipv4</value><value>ipv6</value></field>"                       \
    "<field var='os'><value>Mac</value></field>"                                                   \
    "<field var='os_version'><value>10.5.1</value></field>"                                        \
    "<field var='software'><value>Psi</value></field>"                                             \
    "<field var='software_version'><value>0.11</value></field>"                                    \
    "</x>"

static const char complex_example[] =
    "<iq from='benvolio@capulet.lit/230193' id='disco1' to='juliet@capulet.lit/chamber' "
    "type='result'>"
    "<query xmlns='http://jabber.org/protocol/disco#info' "
    "node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>"
    "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
    "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/>" COMPLEX_FORM "</query></iq>";

/* The same answer in another order: the hash must not change. */
static const char complex_shuffled[] =
    "<query xmlns='http://jabber.org/protocol/disco#info'>"
    "<feature var='http://jabber.org/protocol/muc'/>"
    "<x xmlns='jabber:x:data' type='result'>"
    "<field var='software_version'><value>0.11</value></field>"
    "<field var='ip_version'><value>ipv6</value><value>ipv4</value></field>"
    "<field var='os'><value>Mac</value></field>"
    "<field var='software'><value>Psi</value></field>"
    "<field var='os_version'><value>10.5.1</value></field>"
    "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
    "</x>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "</query>";

static int hash_of(const char *xml, char ver[CANTO_DISCO_VER_SIZE])
{
    canto_disco_info *info = NULL;
    int rc = info_from(xml, &info, NULL);
    if (rc == 0)
        rc = canto_disco_caps_hash(info, "sha-1", ver, CANTO_DISCO_VER_SIZE);
    canto_disco_info_free(info);
    return rc;
}

static int test_known_answers(void)
{
    char ver[CANTO_DISCO_VER_SIZE];
    CHECK_INT(hash_of(simple_example, ver), 0);
    CHECK_STR(ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
    CHECK_INT(hash_of(complex_example, ver), 0);
    CHECK_STR(ver, "q07IKJEyjvHSyhy//CH0CxmKi8w=");
    CHECK_INT(hash_of(complex_shuffled, ver), 0);
    CHECK_STR(ver, "q07IKJEyjvHSyhy//CH0CxmKi8w=");

    canto_disco_info *info;
    REQUIRE(info_from(complex_example, &info, NULL) == 0);
    CHECK_INT(canto_disco_caps_verify(info, "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8w="), 1);
    CHECK_INT(canto_disco_caps_verify(info, NULL, "q07IKJEyjvHSyhy//CH0CxmKi8w="), 1);
    /* A wrong ver is rejected: the simple example's, and one changed bit. */
    CHECK_INT(canto_disco_caps_verify(info, "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0="), 0);
    CHECK_INT(canto_disco_caps_verify(info, "sha-1", "q07IKJEyjvHSyhy//CH0CxmKi8x="), 0);
    CHECK_INT(canto_disco_caps_verify(info, "sha-256", "q07IKJEyjvHSyhy//CH0CxmKi8w="),
              CANTO_EUNSUPPORTED);
    char small[8];
    CHECK_INT(canto_disco_caps_hash(info, NULL, small, sizeof(small)), CANTO_ETOOBIG);
    canto_disco_info_free(info);

    /* One feature less changes the hash. */
    REQUIRE(info_from("<query xmlns='" INFO_NS "'>"
                      "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
                      "<feature var='http://jabber.org/protocol/caps'/>"
                      "<feature var='http://jabber.org/protocol/disco#info'/>"
                      "<feature var='http://jabber.org/protocol/muc'/></query>",
                      &info, NULL) == 0);
    CHECK_INT(canto_disco_caps_verify(info, "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0="), 0);
    canto_disco_info_free(info);
    return 0;
}

/* XEP-0115 §5.4 checks: each answer must be refused, not hashed. */
static int expect_ill_formed(const char *body, const char *why)
{
    char xml[4096], ver[CANTO_DISCO_VER_SIZE];
    snprintf(xml, sizeof(xml), "<query xmlns='" INFO_NS "'>%s</query>", body);
    int rc = hash_of(xml, ver);
    if (rc != CANTO_EPROTO) {
        fprintf(stderr, "  %s: rc %d\n", why, rc);
        return 1;
    }
    return 0;
}

#define ID "<identity category='client' type='pc'/>"
#define FT(v) "<field var='FORM_TYPE' type='hidden'><value>" v "</value></field>"

static int test_ill_formed(void)
{
    CHECK(!expect_ill_formed(ID "<identity category='client' type='pc'/>", "same identity twice"));
    CHECK(!expect_ill_formed(ID "<feature var='a'/><feature var='a'/>", "same feature twice"));
    CHECK(
        !expect_ill_formed(ID "<x xmlns='jabber:x:data' type='result'>" FT(
                               "urn:a") "</x>"
                                        "<x xmlns='jabber:x:data' type='result'>" FT(
                                            "urn:a") "<field var='b'><value>1</value></field></x>",
                           "duplicate FORM_TYPE"));
    CHECK(!expect_ill_formed(ID "<x xmlns='jabber:x:data' type='result'>"
                                "<field var='FORM_TYPE' type='hidden'><value>urn:a</value>"
                                "<value>urn:b</value></field></x>",
                             "FORM_TYPE with two values"));
    CHECK(!expect_ill_formed(ID "<feature var='a&lt;b'/>", "'<' in a feature"));
    CHECK(!expect_ill_formed("<identity category='client' type='pc' name='x&lt;y'/>",
                             "'<' in a name"));
    CHECK(!expect_ill_formed(ID "<x xmlns='jabber:x:data' type='result'>" FT(
                                 "urn:a") "<field var='b'><value>1&lt;2</value></field></x>",
                             "'<' in a value"));

    /* "a<b" as one feature would hash like "a" and "b": refused, so it
     * cannot stand in for the genuine answer. */
    char v1[CANTO_DISCO_VER_SIZE], v2[CANTO_DISCO_VER_SIZE];
    CHECK_INT(hash_of("<query xmlns='" INFO_NS "'>" ID "<feature var='a'/><feature var='b'/>"
                      "</query>",
                      v1),
              0);
    CHECK_INT(hash_of("<query xmlns='" INFO_NS "'>" ID "<feature var='a&lt;b'/></query>", v2),
              CANTO_EPROTO);

    /* A var repeated inside a form is refused when the answer is read. */
    canto_disco_info *info = NULL;
    const char *detail = NULL;
    CHECK_INT(info_from("<query xmlns='" INFO_NS "'>" ID
                        "<x xmlns='jabber:x:data' type='result'>" FT(
                            "urn:a") "<field var='b'><value>1</value></field>"
                                     "<field var='b'><value>2</value></field></x></query>",
                        &info, &detail),
              CANTO_EPROTO);
    CHECK(info == NULL);
    CHECK(detail != NULL);

    /* Forms without FORM_TYPE, or with a FORM_TYPE that is not hidden, are
     * left out of the hash (§5.4 3.6): same ver as without them. */
    char plain[CANTO_DISCO_VER_SIZE], with[CANTO_DISCO_VER_SIZE];
    CHECK_INT(hash_of("<query xmlns='" INFO_NS "'>" ID "<feature var='a'/></query>", plain), 0);
    CHECK_INT(hash_of("<query xmlns='" INFO_NS "'>" ID "<feature var='a'/>"
                      "<x xmlns='jabber:x:data' type='result'><field var='b'><value>1</value>"
                      "</field></x>"
                      "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
                      "type='text-single'><value>urn:c</value></field></x></query>",
                      with),
              0);
    CHECK_STR(with, plain);
    /* ... while a proper one is not. */
    CHECK_INT(hash_of("<query xmlns='" INFO_NS "'>" ID "<feature var='a'/>"
                      "<x xmlns='jabber:x:data' type='result'>" FT("urn:c") "</x></query>",
                      with),
              0);
    CHECK(strcmp(with, plain) != 0);
    return 0;
}

static int test_info_parse(void)
{
    canto_disco_info *info = NULL;
    const char *detail = NULL;
    REQUIRE(info_from(complex_example, &info, &detail) == 0);
    CHECK(detail == NULL);
    CHECK_STR(canto_disco_info_node(info), "http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w=");
    CHECK_INT(canto_disco_info_identity_count(info), 2);
    const char *cat, *type, *name, *lang;
    CHECK_INT(canto_disco_info_identity(info, 1, &cat, &type, &name, &lang), 0);
    CHECK_STR(cat, "client");
    CHECK_STR(type, "pc");
    CHECK_STR(name, "\xce\xa8 0.11");
    CHECK_STR(lang, "el");
    CHECK_INT(canto_disco_info_identity(info, 2, &cat, NULL, NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_disco_info_feature_count(info), 4);
    CHECK_STR(canto_disco_info_feature(info, 3), "http://jabber.org/protocol/muc");
    CHECK(canto_disco_info_feature(info, 4) == NULL);
    CHECK_INT(canto_disco_info_has_feature(info, "http://jabber.org/protocol/muc"), 1);
    CHECK_INT(canto_disco_info_has_feature(info, "urn:xmpp:ping"), 0);
    CHECK_INT(canto_disco_info_extension_count(info), 1);
    const canto_form *form =
        canto_disco_info_find_extension(info, "urn:xmpp:dataforms:softwareinfo");
    REQUIRE(form != NULL);
    CHECK(form == canto_disco_info_extension(info, 0));
    CHECK_STR(canto_form_value(form, "os_version"), "10.5.1");
    CHECK(canto_disco_info_find_extension(info, "urn:other") == NULL);

    /* References. */
    canto_disco_info *kept = canto_disco_info_ref(info);
    CHECK(kept == info);
    canto_disco_info_free(info);
    CHECK_INT(canto_disco_info_feature_count(kept), 4);
    canto_disco_info_free(kept);

    /* Malformed answers. */
    info = NULL;
    CHECK_INT(info_from("<query xmlns='" INFO_NS "'><identity type='pc'/></query>", &info, &detail),
              CANTO_EPROTO);
    CHECK(detail != NULL);
    CHECK_INT(info_from("<query xmlns='" INFO_NS "'><feature/></query>", &info, NULL),
              CANTO_EPROTO);
    CHECK_INT(
        info_from("<query xmlns='" INFO_NS "'><x xmlns='jabber:x:data'/></query>", &info, NULL),
        CANTO_EPROTO);
    CHECK_INT(info_from("<query xmlns='http://jabber.org/protocol/disco#items'/>", &info, NULL),
              CANTO_EINVAL);
    CHECK(info == NULL);

    /* Too many features. */
    size_t n = CANTO_DISCO_MAX_FEATURES + 1, cap = 64 + n * 24;
    char *xml = malloc(cap);
    REQUIRE(xml != NULL);
    size_t len = (size_t)snprintf(xml, cap, "<query xmlns='" INFO_NS "'>");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(xml + len, cap - len, "<feature var='f%zu'/>", i);
    snprintf(xml + len, cap - len, "</query>");
    CHECK_INT(info_from(xml, &info, &detail), CANTO_ETOOBIG);
    CHECK(info == NULL);
    free(xml);
    return 0;
}

static int test_items_parse(void)
{
    canto_stanza *st = parse("<iq type='result' from='localhost' id='i1'>"
                             "<query xmlns='http://jabber.org/protocol/disco#items'>"
                             "<item jid='conference.localhost' name='Chatrooms'/>"
                             "<item jid='pubsub.localhost' node='princely_musings'/>"
                             "<item jid='Romeo@Montague.lit/Home'/>"
                             "<other xmlns='urn:x'/>"
                             "</query></iq>");
    REQUIRE(st != NULL);
    canto_disco_items *items = NULL;
    const char *jid, *node, *name;
    CHECK_INT(canto_disco_items_parse(canto_stanza_child(st, "query", NULL), &items, NULL), 0);
    CHECK_INT(canto_disco_items_count(items), 3);
    CHECK_INT(canto_disco_items_get(items, 0, &jid, &node, &name), 0);
    CHECK_STR(jid, "conference.localhost");
    CHECK(node == NULL);
    CHECK_STR(name, "Chatrooms");
    CHECK_INT(canto_disco_items_get(items, 1, &jid, &node, &name), 0);
    CHECK_STR(node, "princely_musings");
    CHECK(name == NULL);
    CHECK_INT(canto_disco_items_get(items, 2, &jid, NULL, NULL), 0);
    CHECK_STR(jid, "romeo@montague.lit/Home"); /* normalized */
    CHECK_INT(canto_disco_items_get(items, 3, &jid, NULL, NULL), CANTO_EINVAL);
    CHECK(canto_disco_items_node(items) == NULL);
    canto_disco_items_free(items);
    canto_stanza_free(st);

    const char *bad[] = {
        "<query xmlns='http://jabber.org/protocol/disco#items'><item name='x'/></query>",
        "<query xmlns='http://jabber.org/protocol/disco#items'><item jid='a@b@c'/></query>",
    };
    for (size_t i = 0; i < 2; i++) {
        st = parse(bad[i]);
        REQUIRE(st != NULL);
        const char *detail = NULL;
        items = NULL;
        CHECK_INT(canto_disco_items_parse(st, &items, &detail), CANTO_EPROTO);
        CHECK(items == NULL);
        CHECK(detail != NULL);
        canto_stanza_free(st);
    }
    st = parse("<query xmlns='http://jabber.org/protocol/disco#items' node='n'/>");
    REQUIRE(st != NULL);
    CHECK_INT(canto_disco_items_parse(st, &items, NULL), 0);
    CHECK_INT(canto_disco_items_count(items), 0);
    CHECK_STR(canto_disco_items_node(items), "n");
    canto_disco_items_free(items);
    canto_stanza_free(st);
    return 0;
}

static int feature_present(const canto_client *c, const char *var)
{
    const char *f;
    for (size_t i = 0; (f = canto_client_feature(c, i)) != NULL; i++)
        if (strcmp(f, var) == 0)
            return 1;
    return 0;
}

static size_t feature_count(const canto_client *c)
{
    size_t n = 0;
    while (canto_client_feature(c, n))
        n++;
    return n;
}

static void unused_cb(void *ud, canto_disco *d, const canto_disco_response *r)
{
    (void)ud;
    (void)d;
    (void)r;
}

/* The plugin on a client that is not connected: features, own ver, extensions. */
static int test_plugin_offline(void)
{
    canto_loop *loop;
    canto_client *client;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    REQUIRE(canto_client_new(loop, "romeo@montague.lit/orchard", NULL, &client) == 0);
    REQUIRE(canto_client_add_feature(client, "http://jabber.org/protocol/muc") == 0);
    REQUIRE(canto_client_set_identity(client, "client", "pc", "Exodus 0.9.1") == 0);
    size_t before = feature_count(client);

    canto_disco_options bad = CANTO_DISCO_OPTIONS_INIT;
    bad.version = 99;
    canto_disco *d = NULL;
    CHECK_INT(canto_disco_new(client, &bad, &d), CANTO_EINVAL);
    CHECK(d == NULL);
    canto_disco_options opts = CANTO_DISCO_OPTIONS_INIT;
    opts.caps_node = "http://code.google.com/p/exodus";
    REQUIRE(canto_disco_new(client, &opts, &d) == 0);
    CHECK_STR(canto_disco_caps_node(d), "http://code.google.com/p/exodus");
    CHECK(feature_present(client, "http://jabber.org/protocol/disco#info"));
    CHECK(feature_present(client, "http://jabber.org/protocol/disco#items"));
    CHECK(feature_present(client, "http://jabber.org/protocol/caps"));
    /* Exactly the XEP's simple example. */
    CHECK_STR(canto_disco_caps_ver(d), "QgayPKawpkPSDYmwT/WM94uAlu0=");

    /* Extensions change the ver and are replaced by FORM_TYPE. */
    canto_stanza *st = parse(COMPLEX_FORM);
    REQUIRE(st != NULL);
    canto_form *form;
    REQUIRE(canto_form_parse(NULL, st, &form, NULL) == 0);
    canto_stanza_free(st);
    CHECK_INT(canto_disco_add_extension(d, form), 0);
    const char *v = canto_disco_caps_ver(d);
    CHECK(v && strcmp(v, "QgayPKawpkPSDYmwT/WM94uAlu0=") != 0);
    char with_ext[CANTO_DISCO_VER_SIZE];
    snprintf(with_ext, sizeof(with_ext), "%s", v ? v : "");
    CHECK_INT(canto_disco_add_extension(d, form), 0); /* replaces: same ver */
    CHECK_STR(canto_disco_caps_ver(d), with_ext);
    CHECK_INT(canto_disco_remove_extension(d, "urn:xmpp:dataforms:softwareinfo"), 0);
    CHECK_INT(canto_disco_remove_extension(d, "urn:xmpp:dataforms:softwareinfo"), CANTO_ENOTFOUND);
    CHECK_STR(canto_disco_caps_ver(d), "QgayPKawpkPSDYmwT/WM94uAlu0=");
    canto_form_free(form);

    canto_form *plain;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_RESULT, &plain) == 0);
    CHECK_INT(canto_disco_add_extension(d, plain), CANTO_EINVAL); /* no FORM_TYPE */
    canto_form_free(plain);
    REQUIRE(canto_form_new(NULL, CANTO_FORM_FORM, &plain) == 0);
    canto_form_field *fd;
    REQUIRE(canto_form_add_field(plain, CANTO_FORM_FIELD_HIDDEN, "FORM_TYPE", NULL, &fd) == 0);
    REQUIRE(canto_form_field_set_value(fd, "urn:x") == 0);
    CHECK_INT(canto_disco_add_extension(d, plain), CANTO_EINVAL); /* not a result */
    canto_form_free(plain);

    /* Requests need a connection; no callback follows a refusal. */
    unsigned req = 0;
    CHECK_INT(canto_disco_query_info(d, "juliet@capulet.lit/balcony", NULL, unused_cb, NULL, &req),
              CANTO_ENOTCONN);
    CHECK_INT(canto_disco_query_items(d, "@@", NULL, unused_cb, NULL, &req) < 0, 1);
    CHECK_INT(canto_disco_query_info(d, NULL, NULL, unused_cb, NULL, &req), CANTO_EINVAL);
    CHECK_INT(canto_disco_cancel(d, 12345), CANTO_ENOTFOUND);
    canto_disco_info *info = NULL;
    CHECK_INT(canto_disco_caps_of(d, "juliet@capulet.lit/balcony", &info), CANTO_ENOTFOUND);
    CHECK_INT(canto_disco_caps_lookup(d, "QgayPKawpkPSDYmwT/WM94uAlu0=", &info), CANTO_ENOTFOUND);

    canto_disco_free(d);
    /* Its features are withdrawn again; the application's stay. */
    CHECK_INT(feature_count(client), before);
    CHECK(!feature_present(client, "http://jabber.org/protocol/caps"));
    CHECK(feature_present(client, "http://jabber.org/protocol/muc"));

    /* caps_disabled: no caps feature. */
    opts.caps_disabled = 1;
    REQUIRE(canto_disco_new(client, &opts, &d) == 0);
    CHECK(!feature_present(client, "http://jabber.org/protocol/caps"));
    CHECK(feature_present(client, "http://jabber.org/protocol/disco#info"));
    canto_disco_free(d);
    CHECK_INT(feature_count(client), before);

    canto_client_free(client);
    canto_loop_free(loop);
    return 0;
}

/* Cache lines as canto_disco_caps_export() writes them: node = ver. */
static const char cache_text[] =
    "<query xmlns='" INFO_NS "' node='QgayPKawpkPSDYmwT/WM94uAlu0='>"
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/></query>\n"
    "not xml at all\n"
    "<query xmlns='" INFO_NS "' node='q07IKJEyjvHSyhy//CH0CxmKi8w='>"
    "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
    "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/>" COMPLEX_FORM "</query>\n"
    /* A poisoned entry: Exodus's answer under another ver. */
    "<query xmlns='" INFO_NS "' node='66/0NaeaBKkwk85efJTGmU47vXI='>"
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/></query>\n";

static int test_cache_export_import(void)
{
    canto_loop *loop;
    canto_client *client;
    canto_disco *d, *d2;
    REQUIRE(canto_loop_new(NULL, &loop) == 0);
    REQUIRE(canto_client_new(loop, "juliet@capulet.lit", NULL, &client) == 0);
    canto_disco_options opts = CANTO_DISCO_OPTIONS_INIT;
    opts.caps_cache_max = 2;
    REQUIRE(canto_disco_new(client, &opts, &d) == 0);

    size_t imported = 99;
    CHECK_INT(canto_disco_caps_import(d, cache_text, (size_t)-1, &imported), 0);
    CHECK_INT(imported, 2); /* the garbage and the poisoned line are skipped */
    CHECK_INT(canto_disco_caps_count(d), 2);
    canto_disco_info *info = NULL;
    CHECK_INT(canto_disco_caps_lookup(d, "66/0NaeaBKkwk85efJTGmU47vXI=", &info), CANTO_ENOTFOUND);
    REQUIRE(canto_disco_caps_lookup(d, "q07IKJEyjvHSyhy//CH0CxmKi8w=", &info) == 0);
    CHECK_INT(canto_disco_info_has_feature(info, "http://jabber.org/protocol/muc"), 1);
    CHECK_INT(canto_disco_info_extension_count(info), 1);
    canto_disco_info_free(info);

    size_t need = 0;
    CHECK_INT(canto_disco_caps_export(d, NULL, 0, &need), 0);
    CHECK(need > 100);
    char tiny[16];
    CHECK_INT(canto_disco_caps_export(d, tiny, sizeof(tiny), &need), CANTO_ETOOBIG);
    char *buf = malloc(need + 1);
    REQUIRE(buf != NULL);
    size_t len = 0;
    CHECK_INT(canto_disco_caps_export(d, buf, need + 1, &len), 0);
    CHECK_INT(len, need);
    CHECK_INT(strlen(buf), need);

    REQUIRE(canto_disco_new(client, NULL, &d2) == 0);
    CHECK_INT(canto_disco_caps_import(d2, buf, len, &imported), 0);
    CHECK_INT(imported, 2);
    REQUIRE(canto_disco_caps_lookup(d2, "QgayPKawpkPSDYmwT/WM94uAlu0=", &info) == 0);
    const char *name = NULL;
    CHECK_INT(canto_disco_info_identity(info, 0, NULL, NULL, &name, NULL), 0);
    CHECK_STR(name, "Exodus 0.9.1");
    canto_disco_info_free(info);
    free(buf);

    /* The cache is bounded: a third entry evicts the least recently used. */
    REQUIRE(canto_disco_caps_lookup(d, "q07IKJEyjvHSyhy//CH0CxmKi8w=", &info) == 0);
    canto_disco_info_free(info);
    const char *third = "<query xmlns='" INFO_NS "' node='%s'>"
                        "<identity category='client' type='bot'/></query>";
    canto_stanza *st = parse("<query xmlns='" INFO_NS "'><identity category='client' "
                             "type='bot'/></query>");
    REQUIRE(st != NULL);
    canto_disco_info *bot;
    REQUIRE(canto_disco_info_parse(st, &bot, NULL) == 0);
    char ver[CANTO_DISCO_VER_SIZE], line[512];
    REQUIRE(canto_disco_caps_hash(bot, NULL, ver, sizeof(ver)) == 0);
    canto_disco_info_free(bot);
    canto_stanza_free(st);
    snprintf(line, sizeof(line), third, ver);
    CHECK_INT(canto_disco_caps_import(d, line, (size_t)-1, &imported), 0);
    CHECK_INT(imported, 1);
    CHECK_INT(canto_disco_caps_count(d), 2);
    CHECK_INT(canto_disco_caps_lookup(d, "QgayPKawpkPSDYmwT/WM94uAlu0=", &info), CANTO_ENOTFOUND);
    REQUIRE(canto_disco_caps_lookup(d, ver, &info) == 0);
    canto_disco_info_free(info);
    REQUIRE(canto_disco_caps_lookup(d, "q07IKJEyjvHSyhy//CH0CxmKi8w=", &info) == 0);
    canto_disco_info_free(info);

    canto_disco_free(d2);
    canto_disco_free(d);
    canto_client_free(client);
    canto_loop_free(loop);
    return 0;
}

int main(void)
{
    RUN(test_known_answers);
    RUN(test_ill_formed);
    RUN(test_info_parse);
    RUN(test_items_parse);
    RUN(test_plugin_offline);
    RUN(test_cache_export_import);
    return CHECK_DONE();
}
