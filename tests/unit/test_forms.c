/* Data forms (XEP-0004) through the public API: building, writing, parsing
 * back, filling in and submitting, reported/items tables, hostile input. */
#include "check.h"

#include <stdlib.h>

#include <canto/canto.h>
#include <canto/forms.h>

#define NS "jabber:x:data"

/* Parse @p xml (a stanza holding an <x/> or an <x/> itself) into a form. */
static int parse_xml(const char *xml, canto_form **out, const char **detail)
{
    canto_stanza *st;
    int rc = canto_stanza_parse(NULL, xml, (size_t)-1, &st);
    if (rc)
        return 1000 + rc;
    const canto_stanza *x = canto_stanza_is(st, "x", NS) ? st : canto_stanza_find(st, "{" NS "}x");
    if (!x)
        x = canto_stanza_find(st, "*/{" NS "}x");
    rc = canto_form_parse(NULL, x, out, detail);
    canto_stanza_free(st);
    return rc;
}

/* Serialize @p form inside a <message/>; caller frees with canto_free(). */
static char *form_xml(const canto_form *form)
{
    canto_stanza *msg;
    char *s = NULL;
    if (canto_stanza_new(NULL, "message", CANTO_NS_CLIENT, &msg) != 0)
        return NULL;
    canto_stanza *x = NULL;
    if (canto_form_to_stanza(form, msg, &x) == 0 && x)
        canto_stanza_to_string(x, &s, NULL);
    canto_stanza_free(msg);
    return s;
}

/* Write @p form out and read it back. */
static canto_form *round_trip(const canto_form *form)
{
    canto_stanza *msg;
    canto_form *back = NULL;
    if (canto_stanza_new(NULL, "message", CANTO_NS_CLIENT, &msg) != 0)
        return NULL;
    canto_stanza *x = NULL;
    if (canto_form_to_stanza(form, msg, &x) == 0)
        canto_form_parse(NULL, x, &back, NULL);
    canto_stanza_free(msg);
    return back;
}

/* One field of every type with the features XEP-0004 gives them. */
static int build_full(canto_form **out)
{
    canto_form *f;
    canto_form_field *fd;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_FORM, &f) == 0);
    *out = f;
    CHECK_INT(canto_form_set_title(f, "Bot Configuration"), 0);
    CHECK_INT(canto_form_add_instructions(f, "Fill out this form"), 0);
    CHECK_INT(canto_form_add_instructions(f, "Then submit it"), 0);

    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_HIDDEN, "FORM_TYPE", NULL, &fd), 0);
    CHECK_INT(canto_form_field_add_value(fd, "jabber:bot"), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_FIXED, NULL, NULL, &fd), 0);
    CHECK_INT(canto_form_field_set_value(fd, "Section 1: Bot Info"), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_TEXT_SINGLE, "botname", "Name", &fd), 0);
    CHECK_INT(canto_form_field_set_desc(fd, "What to call it"), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_TEXT_MULTI, "description", NULL, &fd), 0);
    CHECK_INT(canto_form_field_add_value(fd, "line one"), 0);
    CHECK_INT(canto_form_field_add_value(fd, "line two"), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_BOOLEAN, "public", "Public bot?", &fd), 0);
    CHECK_INT(canto_form_field_set_required(fd, 1), 0);
    CHECK_INT(canto_form_field_set_bool(fd, 1), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_TEXT_PRIVATE, "password", NULL, &fd), 0);
    CHECK_INT(canto_form_field_set_value(fd, "v3r0na"), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_LIST_MULTI, "features", NULL, &fd), 0);
    CHECK_INT(canto_form_field_add_option(fd, "Contests", "contests"), 0);
    CHECK_INT(canto_form_field_add_option(fd, "News", "news"), 0);
    CHECK_INT(canto_form_field_add_option(fd, NULL, "search"), 0);
    CHECK_INT(canto_form_field_add_value(fd, "news"), 0);
    CHECK_INT(canto_form_field_add_value(fd, "search"), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_LIST_SINGLE, "maxsubs", NULL, &fd), 0);
    CHECK_INT(canto_form_field_add_option(fd, "Ten", "10"), 0);
    CHECK_INT(canto_form_field_add_option(fd, "Twenty", "20"), 0);
    CHECK_INT(canto_form_field_set_value(fd, "20"), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_JID_SINGLE, "owner", NULL, &fd), 0);
    CHECK_INT(canto_form_field_set_value(fd, "romeo@montague.net"), 0);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_JID_MULTI, "invitelist", NULL, &fd), 0);
    CHECK_INT(canto_form_field_add_value(fd, "juliet@capulet.com"), 0);
    CHECK_INT(canto_form_field_add_value(fd, "benvolio@montague.net/home"), 0);
    return 0;
}

static void check_full(const canto_form *f)
{
    canto_form_field *fd;
    const char *label, *value;
    CHECK_INT(canto_form_get_kind(f), CANTO_FORM_FORM);
    CHECK_STR(canto_form_title(f), "Bot Configuration");
    CHECK_STR(canto_form_instructions(f, 0), "Fill out this form");
    CHECK_STR(canto_form_instructions(f, 1), "Then submit it");
    CHECK(canto_form_instructions(f, 2) == NULL);
    CHECK_INT(canto_form_field_count(f), 10);
    CHECK_STR(canto_form_type(f), "jabber:bot");

    fd = canto_form_field_at(f, 1);
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_FIXED);
    CHECK(canto_form_field_var(fd) == NULL);
    CHECK_STR(canto_form_field_value(fd, 0), "Section 1: Bot Info");

    fd = canto_form_get_field(f, "botname");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_TEXT_SINGLE);
    CHECK_STR(canto_form_field_label(fd), "Name");
    CHECK_STR(canto_form_field_desc(fd), "What to call it");
    CHECK_INT(canto_form_field_value_count(fd), 0);
    CHECK_INT(canto_form_field_required(fd), 0);

    fd = canto_form_get_field(f, "description");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_TEXT_MULTI);
    CHECK_INT(canto_form_field_value_count(fd), 2);
    CHECK_STR(canto_form_field_value(fd, 0), "line one");
    CHECK_STR(canto_form_field_value(fd, 1), "line two");

    fd = canto_form_get_field(f, "public");
    int b = -1;
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_BOOLEAN);
    CHECK_INT(canto_form_field_required(fd), 1);
    CHECK_INT(canto_form_field_get_bool(fd, &b), 0);
    CHECK_INT(b, 1);
    CHECK_STR(canto_form_field_label(fd), "Public bot?");

    fd = canto_form_get_field(f, "password");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_TEXT_PRIVATE);
    CHECK_STR(canto_form_value(f, "password"), "v3r0na");

    fd = canto_form_get_field(f, "features");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_LIST_MULTI);
    CHECK_INT(canto_form_field_option_count(fd), 3);
    CHECK_INT(canto_form_field_option(fd, 1, &label, &value), 0);
    CHECK_STR(label, "News");
    CHECK_STR(value, "news");
    CHECK_INT(canto_form_field_option(fd, 2, &label, &value), 0);
    CHECK(label == NULL);
    CHECK_STR(value, "search");
    CHECK_INT(canto_form_field_option(fd, 3, &label, &value), CANTO_EINVAL);
    CHECK_INT(canto_form_field_value_count(fd), 2);
    CHECK_STR(canto_form_field_value(fd, 1), "search");

    fd = canto_form_get_field(f, "maxsubs");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_LIST_SINGLE);
    CHECK_INT(canto_form_field_option_count(fd), 2);
    CHECK_STR(canto_form_field_value(fd, 0), "20");

    fd = canto_form_get_field(f, "owner");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_JID_SINGLE);
    CHECK_STR(canto_form_field_value(fd, 0), "romeo@montague.net");

    fd = canto_form_get_field(f, "invitelist");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_JID_MULTI);
    CHECK_INT(canto_form_field_value_count(fd), 2);
    CHECK_STR(canto_form_field_value(fd, 1), "benvolio@montague.net/home");

    fd = canto_form_get_field(f, "FORM_TYPE");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_HIDDEN);
    CHECK_STR(canto_form_field_type_attr(fd), "hidden");
}

static int test_round_trip_all_types(void)
{
    canto_form *f = NULL;
    build_full(&f);
    REQUIRE(f != NULL);
    check_full(f);

    canto_form *back = round_trip(f);
    REQUIRE(back != NULL);
    check_full(back);

    /* Writing the parsed form gives the same XML again. */
    char *a = form_xml(f), *b = form_xml(back);
    REQUIRE(a && b);
    CHECK_STR(a, b);
    CHECK(strstr(a, "<field var='public' type='boolean' label='Public bot?'><required/>"
                    "<value>1</value></field>") != NULL ||
          strstr(a, "<field var=\"public\" type=\"boolean\" label=\"Public bot?\"><required/>"
                    "<value>1</value></field>") != NULL);
    CHECK(strstr(a, "jabber:x:data") != NULL);
    canto_free(a);
    canto_free(b);

    canto_form *copy;
    REQUIRE(canto_form_copy(back, &copy) == 0);
    check_full(copy);
    canto_form_free(copy);
    canto_form_free(back);
    canto_form_free(f);
    return 0;
}

/* XEP-0004 §5.1, "Service Returns Bot Creation Form". */
static const char bot_form[] =
    "<iq type='result' id='create1'>"
    "<command xmlns='http://jabber.org/protocol/commands' node='create'>"
    "<x xmlns='jabber:x:data' type='form'>"
    "<title>Bot Configuration</title>"
    "<instructions>Fill out this form to configure your new bot!</instructions>"
    "<field type='hidden' var='FORM_TYPE'><value>jabber:bot</value></field>"
    "<field type='fixed'><value>Section 1: Bot Info</value></field>"
    "<field type='text-single' label='The name of your bot' var='botname'/>"
    "<field type='text-multi' label='Helpful description of your bot' var='description'/>"
    "<field type='boolean' label='Public bot?' var='public'><required/></field>"
    "<field type='text-private' label='Password for special access' var='password'/>"
    "<field type='fixed'><value>Section 2: Features</value></field>"
    "<field type='list-multi' label='What features will the bot support?' var='features'>"
    "<option label='Contests'><value>contests</value></option>"
    "<option label='News'><value>news</value></option>"
    "<option label='Polls'><value>polls</value></option>"
    "<option label='Reminders'><value>reminders</value></option>"
    "<option label='Search'><value>search</value></option>"
    "<value>news</value><value>search</value></field>"
    "<field type='fixed'><value>Section 3: Subscriber List</value></field>"
    "<field type='list-single' label='Maximum number of subscribers' var='maxsubs'>"
    "<value>20</value>"
    "<option label='10'><value>10</value></option>"
    "<option label='20'><value>20</value></option>"
    "<option label='None'><value>none</value></option></field>"
    "<field type='fixed'><value>Section 4: Invitations</value></field>"
    "<field type='jid-multi' label='People to invite' var='invitelist'>"
    "<desc>Tell all your friends about your new bot!</desc></field>"
    "</x></command></iq>";

static int test_parse_and_submit(void)
{
    canto_form *f = NULL, *s = NULL;
    const char *detail = "unset";
    REQUIRE(parse_xml(bot_form, &f, &detail) == 0);
    CHECK(detail == NULL);
    CHECK_INT(canto_form_get_kind(f), CANTO_FORM_FORM);
    CHECK_INT(canto_form_field_count(f), 12);
    CHECK_STR(canto_form_type(f), "jabber:bot");
    canto_form_field *fd = canto_form_get_field(f, "public");
    int b = -1;
    CHECK_INT(canto_form_field_get_bool(fd, &b), 0);
    CHECK_INT(b, 0); /* no value: the default is false */
    CHECK_INT(canto_form_field_required(fd), 1);
    CHECK_STR(canto_form_field_desc(canto_form_get_field(f, "invitelist")),
              "Tell all your friends about your new bot!");
    CHECK_INT(canto_form_field_option_count(canto_form_get_field(f, "features")), 5);

    REQUIRE(canto_form_make_submit(f, &s) == 0);
    CHECK_INT(canto_form_get_kind(s), CANTO_FORM_SUBMIT);
    /* 12 fields less 4 fixed ones. */
    CHECK_INT(canto_form_field_count(s), 8);
    CHECK_STR(canto_form_type(s), "jabber:bot");
    CHECK(canto_form_title(s) == NULL);
    fd = canto_form_get_field(s, "features");
    CHECK_INT(canto_form_field_option_count(fd), 0);
    CHECK(canto_form_field_label(fd) == NULL);
    CHECK_INT(canto_form_field_value_count(fd), 2);
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_LIST_MULTI);
    CHECK_INT(canto_form_field_required(canto_form_get_field(s, "public")), 0);
    CHECK_STR(canto_form_value(s, "maxsubs"), "20");

    /* Fill in and write the answer. */
    CHECK_INT(canto_form_field_set_value(canto_form_get_field(s, "botname"), "Joogle"), 0);
    CHECK_INT(canto_form_field_set_bool(canto_form_get_field(s, "public"), 0), 0);
    CHECK_INT(canto_form_field_set_value(canto_form_get_field(s, "maxsubs"), "10"), 0);
    fd = canto_form_get_field(s, "invitelist");
    CHECK_INT(canto_form_field_add_value(fd, "juliet@capulet.com"), 0);
    CHECK_INT(canto_form_field_add_value(fd, "benvolio@montague.net"), 0);
    canto_form *back = round_trip(s);
    REQUIRE(back != NULL);
    CHECK_INT(canto_form_get_kind(back), CANTO_FORM_SUBMIT);
    CHECK_STR(canto_form_value(back, "botname"), "Joogle");
    CHECK_STR(canto_form_value(back, "public"), "0");
    CHECK_STR(canto_form_value(back, "maxsubs"), "10");
    CHECK_INT(canto_form_field_value_count(canto_form_get_field(back, "invitelist")), 2);
    CHECK_STR(canto_form_type(back), "jabber:bot");
    canto_form_free(back);

    /* The original is unchanged by filling in the copy. */
    CHECK_STR(canto_form_value(f, "maxsubs"), "20");
    canto_form_free(s);
    canto_form_free(f);
    return 0;
}

static int test_bool_and_values(void)
{
    canto_form *f;
    canto_form_field *fd, *t, *j;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_SUBMIT, &f) == 0);
    REQUIRE(canto_form_add_field(f, CANTO_FORM_FIELD_BOOLEAN, "b", NULL, &fd) == 0);
    int v = -1;
    const char *yes[] = {"1", "true"}, *no[] = {"0", "false"};
    for (int i = 0; i < 2; i++) {
        CHECK_INT(canto_form_field_set_value(fd, yes[i]), 0);
        CHECK_INT(canto_form_field_get_bool(fd, &v), 0);
        CHECK_INT(v, 1);
        CHECK_INT(canto_form_field_set_value(fd, no[i]), 0);
        CHECK_INT(canto_form_field_get_bool(fd, &v), 0);
        CHECK_INT(v, 0);
    }
    CHECK_INT(canto_form_field_set_value(fd, "yes"), CANTO_EINVAL);
    CHECK_STR(canto_form_field_value(fd, 0), "false");            /* unchanged by the refusal */
    CHECK_INT(canto_form_field_add_value(fd, "1"), CANTO_EINVAL); /* second value */
    CHECK_INT(canto_form_field_set_value(fd, NULL), 0);
    CHECK_INT(canto_form_field_value_count(fd), 0);

    REQUIRE(canto_form_add_field(f, CANTO_FORM_FIELD_TEXT_SINGLE, "t", NULL, &t) == 0);
    CHECK_INT(canto_form_field_add_value(t, "one"), 0);
    CHECK_INT(canto_form_field_add_value(t, "two"), CANTO_EINVAL);
    CHECK_INT(canto_form_field_add_option(t, NULL, "x"), CANTO_EINVAL);
    CHECK_INT(canto_form_field_add_value(t, "\xc3\x28"), CANTO_EUTF8);

    REQUIRE(canto_form_add_field(f, CANTO_FORM_FIELD_JID_MULTI, "j", NULL, &j) == 0);
    CHECK_INT(canto_form_field_add_value(j, "a@b"), 0);
    CHECK_INT(canto_form_field_add_value(j, "not a jid@"), CANTO_EINVAL);
    CHECK_INT(canto_form_field_value_count(j), 1);

    /* Adding fields: var rules. */
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_TEXT_SINGLE, "t", NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_TEXT_SINGLE, NULL, NULL, NULL),
              CANTO_EINVAL);
    CHECK_INT(canto_form_add_field(f, (canto_form_field_type)99, "z", NULL, NULL), CANTO_EINVAL);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_FIXED, NULL, NULL, NULL), 0);
    CHECK_INT(canto_form_field_count(f), 4);
    CHECK_INT(canto_form_remove_field(f, "t"), 0);
    CHECK_INT(canto_form_remove_field(f, "t"), CANTO_ENOTFOUND);
    CHECK(canto_form_get_field(f, "t") == NULL);
    CHECK_INT(canto_form_field_count(f), 3);
    CHECK(canto_form_get_field(f, "j") == j);
    canto_form *g = NULL;
    CHECK_INT(canto_form_new(NULL, (canto_form_kind)9, &g), CANTO_EINVAL);
    CHECK(g == NULL);
    canto_form_free(f);
    return 0;
}

/* XEP-0004 §5.2, "Service Returns Search Results", shortened. */
static const char search_result[] =
    "<x xmlns='jabber:x:data' type='result'>"
    "<title>Joogle Search: verona</title>"
    "<reported><field var='name'/><field var='url' type='text-single' label='URL'/></reported>"
    "<item><field var='name'><value>Comune di Verona</value></field>"
    "<field var='url'><value>http://www.comune.verona.it/</value></field></item>"
    "<item><field var='name'><value>benvenuto!</value></field>"
    "<field var='url'><value>http://www.hellasverona.it/</value></field></item>"
    "</x>";

static int test_reported_items(void)
{
    canto_form *f = NULL;
    REQUIRE(parse_xml(search_result, &f, NULL) == 0);
    CHECK_INT(canto_form_get_kind(f), CANTO_FORM_RESULT);
    CHECK_INT(canto_form_has_reported(f), 1);
    CHECK_INT(canto_form_reported_count(f), 2);
    CHECK_STR(canto_form_field_label(canto_form_reported_at(f, 1)), "URL");
    CHECK_INT(canto_form_item_count(f), 2);
    CHECK_INT(canto_form_item_field_count(f, 1), 2);
    CHECK_STR(canto_form_field_value(canto_form_item_field(f, 1, "url"), 0),
              "http://www.hellasverona.it/");
    CHECK_STR(canto_form_field_value(canto_form_item_field_at(f, 0, 0), 0), "Comune di Verona");
    CHECK_INT(canto_form_field_get_type(canto_form_item_field(f, 0, "url")),
              CANTO_FORM_FIELD_TEXT_SINGLE);
    CHECK(canto_form_item_field(f, 2, "url") == NULL);
    CHECK_INT(canto_form_field_count(f), 0);

    /* Built by hand, written, read back. */
    canto_form *r, *back;
    canto_form_field *fd;
    size_t row = 99;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_RESULT, &r) == 0);
    CHECK_INT(canto_form_add_item(r, &row), CANTO_EINVAL); /* no header yet */
    CHECK_INT(canto_form_add_reported(r, CANTO_FORM_FIELD_JID_SINGLE, "jid", "JID", NULL), 0);
    CHECK_INT(canto_form_add_reported(r, CANTO_FORM_FIELD_TEXT_SINGLE, "nick", NULL, NULL), 0);
    for (int i = 0; i < 3; i++) {
        char jid[32], nick[16];
        snprintf(jid, sizeof(jid), "user%d@example.com", i);
        snprintf(nick, sizeof(nick), "nick%d", i);
        CHECK_INT(canto_form_add_item(r, &row), 0);
        CHECK_INT(row, i);
        CHECK_INT(canto_form_item_add_field(r, row, "jid", &fd), 0);
        CHECK_INT(canto_form_field_set_value(fd, jid), 0);
        CHECK_INT(canto_form_item_add_field(r, row, "nick", &fd), 0);
        CHECK_INT(canto_form_field_set_value(fd, nick), 0);
    }
    CHECK_INT(canto_form_item_add_field(r, 0, "other", &fd), CANTO_EINVAL);
    CHECK_INT(canto_form_item_add_field(r, 0, "nick", &fd), CANTO_EINVAL);
    CHECK_INT(canto_form_item_add_field(r, 7, "nick", &fd), CANTO_EINVAL);
    /* Item cells take the column's type: a bad JID is refused. */
    REQUIRE(canto_form_add_item(r, &row) == 0);
    CHECK_INT(canto_form_item_add_field(r, row, "jid", &fd), 0);
    CHECK_INT(canto_form_field_set_value(fd, "@bad"), CANTO_EINVAL);
    back = round_trip(r);
    REQUIRE(back != NULL);
    CHECK_INT(canto_form_item_count(back), 4);
    CHECK_STR(canto_form_field_value(canto_form_item_field(back, 2, "jid"), 0),
              "user2@example.com");
    CHECK_STR(canto_form_field_value(canto_form_item_field(back, 1, "nick"), 0), "nick1");
    CHECK_INT(canto_form_field_get_type(canto_form_item_field(back, 1, "jid")),
              CANTO_FORM_FIELD_JID_SINGLE);
    char *a = form_xml(r), *b = form_xml(back);
    CHECK(a && b && strcmp(a, b) == 0);
    canto_free(a);
    canto_free(b);
    canto_form_free(back);
    canto_form_free(r);
    canto_form_free(f);
    return 0;
}

static int test_unknown_and_untyped(void)
{
    canto_form *f = NULL;
    const char *xml = "<x xmlns='jabber:x:data' type='submit'>"
                      "<field var='future' type='x-colour'><value>red</value><value>blue</value>"
                      "</field>"
                      "<field var='multi'><value>a</value><value>b</value></field>"
                      "<field var='FORM_TYPE'><value>urn:example</value></field>"
                      "<unknown xmlns='urn:other'/>"
                      "</x>";
    REQUIRE(parse_xml(xml, &f, NULL) == 0);
    canto_form_field *fd = canto_form_get_field(f, "future");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_TEXT_SINGLE);
    CHECK_STR(canto_form_field_type_attr(fd), "x-colour");
    CHECK_INT(canto_form_field_value_count(fd), 2);
    fd = canto_form_get_field(f, "multi");
    CHECK_INT(canto_form_field_get_type(fd), CANTO_FORM_FIELD_NONE);
    CHECK(canto_form_field_type_attr(fd) == NULL);
    CHECK_INT(canto_form_field_value_count(fd), 2);
    CHECK_STR(canto_form_type(f), "urn:example"); /* an untyped FORM_TYPE counts */
    char *s = form_xml(f);
    REQUIRE(s != NULL);
    CHECK(strstr(s, "x-colour") != NULL);
    CHECK(strstr(s, "urn:other") == NULL);
    canto_free(s);
    canto_form_free(f);
    return 0;
}

static int expect_malformed(const char *xml, int want, const char *why)
{
    canto_form *f = NULL;
    const char *detail = NULL;
    int rc = parse_xml(xml, &f, &detail);
    if (rc != want || f != NULL || (want == CANTO_EPROTO && !detail)) {
        fprintf(stderr, "  %s: rc %d, detail %s\n", why, rc, detail ? detail : "(none)");
        canto_form_free(f);
        return 1;
    }
    return 0;
}

#define X(body) "<x xmlns='jabber:x:data' type='form'>" body "</x>"

static int test_malformed(void)
{
    CHECK(!expect_malformed("<x xmlns='jabber:x:data'/>", CANTO_EPROTO, "no type"));
    CHECK(!expect_malformed("<x xmlns='jabber:x:data' type='fill'/>", CANTO_EPROTO, "bad type"));
    CHECK(!expect_malformed(X("<field type='text-single'/>"), CANTO_EPROTO, "no var"));
    CHECK(!expect_malformed(X("<field var='a'/><field var='a'/>"), CANTO_EPROTO, "dup var"));
    CHECK(!expect_malformed(X("<field var='a' type='text-single'><value>1</value>"
                              "<value>2</value></field>"),
                            CANTO_EPROTO, "two values"));
    CHECK(!expect_malformed(X("<field var='a' type='jid-single'><value>x</value>"
                              "<value>y</value></field>"),
                            CANTO_EPROTO, "two jids"));
    CHECK(!expect_malformed(X("<field var='a' type='text-single'><option><value>1</value>"
                              "</option></field>"),
                            CANTO_EPROTO, "option in text"));
    CHECK(!expect_malformed(X("<field var='a' type='list-single'><option/></field>"), CANTO_EPROTO,
                            "option without value"));
    CHECK(!expect_malformed(X("<field var='a' type='list-single'><option><value>1</value>"
                              "<value>2</value></option></field>"),
                            CANTO_EPROTO, "option with two values"));
    CHECK(!expect_malformed(X("<field var='a' type='boolean'><value>yes</value></field>"),
                            CANTO_EPROTO, "bad boolean"));
    CHECK(!expect_malformed(X("<field var='a' type='jid-multi'><value>a@b@c</value></field>"),
                            CANTO_EPROTO, "bad jid"));
    CHECK(!expect_malformed(X("<item><field var='a'/></item>"), CANTO_EPROTO, "items alone"));
    CHECK(!expect_malformed(X("<reported><field var='a'/></reported><item><field var='b'>"
                              "<value>1</value></field></item>"),
                            CANTO_EPROTO, "item field not reported"));
    CHECK(!expect_malformed(X("<reported><field var='a'/></reported><reported/>"), CANTO_EPROTO,
                            "two reported"));
    CHECK(!expect_malformed(X("<title>a</title><title>b</title>"), CANTO_EPROTO, "two titles"));
    CHECK(!expect_malformed(X("<field var='a'><desc>1</desc><desc>2</desc></field>"), CANTO_EPROTO,
                            "two descs"));

    /* Not a data form at all. */
    canto_stanza *st;
    canto_form *f = NULL;
    REQUIRE(canto_stanza_parse(NULL, "<x xmlns='urn:other' type='form'/>", (size_t)-1, &st) == 0);
    CHECK_INT(canto_form_parse(NULL, st, &f, NULL), CANTO_EINVAL);
    CHECK(f == NULL);
    canto_stanza_free(st);
    CHECK_INT(canto_form_parse(NULL, NULL, &f, NULL), CANTO_EINVAL);

    /* Empty JID values and valid ones are fine; fixed fields may lack var. */
    REQUIRE(parse_xml(X("<field var='a' type='jid-single'><value/></field>"
                        "<field type='fixed'><value>x</value></field>"
                        "<field type='fixed'><value>y</value></field>"),
                      &f, NULL) == 0);
    CHECK_INT(canto_form_field_count(f), 3);
    canto_form_free(f);
    return 0;
}

static int test_limits(void)
{
    /* One field over the limit, as a single big stanza. */
    size_t n = CANTO_FORM_MAX_FIELDS + 1;
    size_t cap = 64 + n * 32;
    char *xml = malloc(cap);
    REQUIRE(xml != NULL);
    size_t len = (size_t)snprintf(xml, cap, "<x xmlns='jabber:x:data' type='submit'>");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(xml + len, cap - len, "<field var='f%zu'/>", i);
    snprintf(xml + len, cap - len, "</x>");
    canto_form *f = NULL;
    const char *detail = NULL;
    CHECK_INT(parse_xml(xml, &f, &detail), CANTO_ETOOBIG);
    CHECK(detail != NULL);
    CHECK(f == NULL);

    /* Exactly at the limit is accepted. */
    len = (size_t)snprintf(xml, cap, "<x xmlns='jabber:x:data' type='submit'>");
    for (size_t i = 0; i + 1 < n; i++)
        len += (size_t)snprintf(xml + len, cap - len, "<field var='f%zu'/>", i);
    snprintf(xml + len, cap - len, "</x>");
    CHECK_INT(parse_xml(xml, &f, NULL), 0);
    CHECK_INT(canto_form_field_count(f), CANTO_FORM_MAX_FIELDS);
    CHECK_INT(canto_form_add_field(f, CANTO_FORM_FIELD_NONE, "more", NULL, NULL), CANTO_ETOOBIG);
    canto_form_free(f);

    /* Too many values in one field. */
    cap = 128 + (CANTO_FORM_MAX_VALUES + 1) * 24;
    char *big = realloc(xml, cap);
    REQUIRE(big != NULL);
    xml = big;
    len = (size_t)snprintf(xml, cap,
                           "<x xmlns='jabber:x:data' type='submit'><field var='m' "
                           "type='text-multi'>");
    for (size_t i = 0; i <= CANTO_FORM_MAX_VALUES; i++)
        len += (size_t)snprintf(xml + len, cap - len, "<value>%zu</value>", i);
    snprintf(xml + len, cap - len, "</field></x>");
    f = NULL;
    CHECK_INT(parse_xml(xml, &f, &detail), CANTO_ETOOBIG);
    CHECK(f == NULL);
    free(xml);
    return 0;
}

/* A counting allocator: everything a form allocates goes through it. */
static long live_allocs;

static void *count_alloc(void *ud, size_t n)
{
    (void)ud;
    live_allocs++;
    return malloc(n);
}

static void *count_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    if (!p)
        live_allocs++;
    return realloc(p, n);
}

static void count_free(void *ud, void *p)
{
    (void)ud;
    if (p)
        live_allocs--;
    free(p);
}

static int test_allocator(void)
{
    canto_allocator a = CANTO_ALLOCATOR_INIT;
    a.alloc = count_alloc;
    a.realloc = count_realloc;
    a.free = count_free;
    canto_form *f, *copy, *sub;
    canto_stanza *st;
    REQUIRE(canto_stanza_parse(NULL, bot_form, (size_t)-1, &st) == 0);
    const canto_stanza *x = canto_stanza_find(st, "*/{jabber:x:data}x");
    REQUIRE(x != NULL);
    REQUIRE(canto_form_parse(&a, x, &f, NULL) == 0);
    CHECK(live_allocs > 10);
    REQUIRE(canto_form_copy(f, &copy) == 0);
    REQUIRE(canto_form_make_submit(copy, &sub) == 0);
    canto_form_free(f);
    canto_form_free(copy);
    CHECK(live_allocs > 0);
    canto_form_free(sub);
    CHECK_INT(live_allocs, 0);
    canto_stanza_free(st);

    canto_allocator bad = CANTO_ALLOCATOR_INIT;
    CHECK_INT(canto_form_new(&bad, CANTO_FORM_FORM, &f), CANTO_EINVAL);
    return 0;
}

static int test_names(void)
{
    CHECK_STR(canto_form_kind_name(CANTO_FORM_CANCEL), "cancel");
    CHECK(canto_form_kind_name((canto_form_kind)0) == NULL);
    CHECK_STR(canto_form_field_type_name(CANTO_FORM_FIELD_LIST_SINGLE), "list-single");
    CHECK_STR(canto_form_field_type_name(CANTO_FORM_FIELD_TEXT_PRIVATE), "text-private");
    CHECK(canto_form_field_type_name(CANTO_FORM_FIELD_NONE) == NULL);

    canto_form *f;
    REQUIRE(canto_form_new(NULL, CANTO_FORM_CANCEL, &f) == 0);
    char *s = form_xml(f);
    CHECK(s && strstr(s, "type=") && strstr(s, "cancel"));
    canto_free(s);
    canto_form_free(f);
    return 0;
}

int main(void)
{
    RUN(test_round_trip_all_types);
    RUN(test_parse_and_submit);
    RUN(test_bool_and_values);
    RUN(test_reported_items);
    RUN(test_unknown_and_untyped);
    RUN(test_malformed);
    RUN(test_limits);
    RUN(test_allocator);
    RUN(test_names);
    return CHECK_DONE();
}
