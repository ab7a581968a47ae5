/* Names and namespaces that XMPP traffic repeats constantly: the parser points
 * nodes at these static copies instead of copying the bytes into each stanza.
 * Keep the list to names that really are frequent: a miss costs comparisons. */
#include "xml/tree.h"

#include <string.h>

const char *canto__intern(const char *s, size_t len)
{
    switch (len) {
    case 1:
        if (memcmp(s, "x", 1) == 0)
            return "x";
        if (memcmp(s, "c", 1) == 0)
            return "c";
        if (memcmp(s, "r", 1) == 0)
            return "r";
        if (memcmp(s, "a", 1) == 0)
            return "a";
        if (memcmp(s, "p", 1) == 0)
            return "p";
        if (memcmp(s, "b", 1) == 0)
            return "b";
        if (memcmp(s, "i", 1) == 0)
            return "i";
        if (memcmp(s, "h", 1) == 0)
            return "h";
        return NULL;
    case 2:
        if (memcmp(s, "iq", 2) == 0)
            return "iq";
        if (memcmp(s, "sm", 2) == 0)
            return "sm";
        if (memcmp(s, "br", 2) == 0)
            return "br";
        if (memcmp(s, "to", 2) == 0)
            return "to";
        if (memcmp(s, "id", 2) == 0)
            return "id";
        if (memcmp(s, "by", 2) == 0)
            return "by";
        if (memcmp(s, "xa", 2) == 0)
            return "xa";
        return NULL;
    case 3:
        if (memcmp(s, "jid", 3) == 0)
            return "jid";
        if (memcmp(s, "ver", 3) == 0)
            return "ver";
        if (memcmp(s, "ask", 3) == 0)
            return "ask";
        if (memcmp(s, "var", 3) == 0)
            return "var";
        if (memcmp(s, "max", 3) == 0)
            return "max";
        if (memcmp(s, "get", 3) == 0)
            return "get";
        if (memcmp(s, "set", 3) == 0)
            return "set";
        if (memcmp(s, "dnd", 3) == 0)
            return "dnd";
        return NULL;
    case 4:
        if (memcmp(s, "body", 4) == 0)
            return "body";
        if (memcmp(s, "show", 4) == 0)
            return "show";
        if (memcmp(s, "item", 4) == 0)
            return "item";
        if (memcmp(s, "text", 4) == 0)
            return "text";
        if (memcmp(s, "gone", 4) == 0)
            return "gone";
        if (memcmp(s, "bind", 4) == 0)
            return "bind";
        if (memcmp(s, "auth", 4) == 0)
            return "auth";
        if (memcmp(s, "html", 4) == 0)
            return "html";
        if (memcmp(s, "span", 4) == 0)
            return "span";
        if (memcmp(s, "nick", 4) == 0)
            return "nick";
        if (memcmp(s, "sent", 4) == 0)
            return "sent";
        if (memcmp(s, "from", 4) == 0)
            return "from";
        if (memcmp(s, "type", 4) == 0)
            return "type";
        if (memcmp(s, "node", 4) == 0)
            return "node";
        if (memcmp(s, "hash", 4) == 0)
            return "hash";
        if (memcmp(s, "name", 4) == 0)
            return "name";
        if (memcmp(s, "role", 4) == 0)
            return "role";
        if (memcmp(s, "code", 4) == 0)
            return "code";
        if (memcmp(s, "ping", 4) == 0)
            return "ping";
        if (memcmp(s, "chat", 4) == 0)
            return "chat";
        if (memcmp(s, "away", 4) == 0)
            return "away";
        if (memcmp(s, "wait", 4) == 0)
            return "wait";
        return NULL;
    case 5:
        if (memcmp(s, "query", 5) == 0)
            return "query";
        if (memcmp(s, "error", 5) == 0)
            return "error";
        if (memcmp(s, "delay", 5) == 0)
            return "delay";
        if (memcmp(s, "abort", 5) == 0)
            return "abort";
        if (memcmp(s, "group", 5) == 0)
            return "group";
        if (memcmp(s, "event", 5) == 0)
            return "event";
        if (memcmp(s, "items", 5) == 0)
            return "items";
        if (memcmp(s, "field", 5) == 0)
            return "field";
        if (memcmp(s, "value", 5) == 0)
            return "value";
        if (memcmp(s, "store", 5) == 0)
            return "store";
        if (memcmp(s, "xmlns", 5) == 0)
            return "xmlns";
        if (memcmp(s, "stamp", 5) == 0)
            return "stamp";
        if (memcmp(s, "label", 5) == 0)
            return "label";
        if (memcmp(s, "block", 5) == 0)
            return "block";
        if (memcmp(s, "probe", 5) == 0)
            return "probe";
        return NULL;
    case 6:
        if (memcmp(s, "thread", 6) == 0)
            return "thread";
        if (memcmp(s, "status", 6) == 0)
            return "status";
        if (memcmp(s, "active", 6) == 0)
            return "active";
        if (memcmp(s, "paused", 6) == 0)
            return "paused";
        if (memcmp(s, "enable", 6) == 0)
            return "enable";
        if (memcmp(s, "resume", 6) == 0)
            return "resume";
        if (memcmp(s, "failed", 6) == 0)
            return "failed";
        if (memcmp(s, "stream", 6) == 0)
            return "stream";
        if (memcmp(s, "pubsub", 6) == 0)
            return "pubsub";
        if (memcmp(s, "option", 6) == 0)
            return "option";
        if (memcmp(s, "reason", 6) == 0)
            return "reason";
        if (memcmp(s, "previd", 6) == 0)
            return "previd";
        if (memcmp(s, "normal", 6) == 0)
            return "normal";
        if (memcmp(s, "result", 6) == 0)
            return "result";
        if (memcmp(s, "cancel", 6) == 0)
            return "cancel";
        if (memcmp(s, "modify", 6) == 0)
            return "modify";
        return NULL;
    case 7:
        if (memcmp(s, "message", 7) == 0)
            return "message";
        if (memcmp(s, "subject", 7) == 0)
            return "subject";
        if (memcmp(s, "request", 7) == 0)
            return "request";
        if (memcmp(s, "session", 7) == 0)
            return "session";
        if (memcmp(s, "enabled", 7) == 0)
            return "enabled";
        if (memcmp(s, "resumed", 7) == 0)
            return "resumed";
        if (memcmp(s, "success", 7) == 0)
            return "success";
        if (memcmp(s, "failure", 7) == 0)
            return "failure";
        if (memcmp(s, "proceed", 7) == 0)
            return "proceed";
        if (memcmp(s, "publish", 7) == 0)
            return "publish";
        if (memcmp(s, "retract", 7) == 0)
            return "retract";
        if (memcmp(s, "feature", 7) == 0)
            return "feature";
        if (memcmp(s, "no-copy", 7) == 0)
            return "no-copy";
        if (memcmp(s, "version", 7) == 0)
            return "version";
        if (memcmp(s, "unblock", 7) == 0)
            return "unblock";
        return NULL;
    case 8:
        if (memcmp(s, "presence", 8) == 0)
            return "presence";
        if (memcmp(s, "priority", 8) == 0)
            return "priority";
        if (memcmp(s, "inactive", 8) == 0)
            return "inactive";
        if (memcmp(s, "received", 8) == 0)
            return "received";
        if (memcmp(s, "markable", 8) == 0)
            return "markable";
        if (memcmp(s, "features", 8) == 0)
            return "features";
        if (memcmp(s, "starttls", 8) == 0)
            return "starttls";
        if (memcmp(s, "required", 8) == 0)
            return "required";
        if (memcmp(s, "optional", 8) == 0)
            return "optional";
        if (memcmp(s, "response", 8) == 0)
            return "response";
        if (memcmp(s, "resource", 8) == 0)
            return "resource";
        if (memcmp(s, "identity", 8) == 0)
            return "identity";
        if (memcmp(s, "no-store", 8) == 0)
            return "no-store";
        if (memcmp(s, "xml:lang", 8) == 0)
            return "xml:lang";
        if (memcmp(s, "category", 8) == 0)
            return "category";
        if (memcmp(s, "location", 8) == 0)
            return "location";
        if (memcmp(s, "conflict", 8) == 0)
            return "conflict";
        if (memcmp(s, "redirect", 8) == 0)
            return "redirect";
        if (memcmp(s, "headline", 8) == 0)
            return "headline";
        if (memcmp(s, "continue", 8) == 0)
            return "continue";
        return NULL;
    case 9:
        if (memcmp(s, "composing", 9) == 0)
            return "composing";
        if (memcmp(s, "origin-id", 9) == 0)
            return "origin-id";
        if (memcmp(s, "stanza-id", 9) == 0)
            return "stanza-id";
        if (memcmp(s, "displayed", 9) == 0)
            return "displayed";
        if (memcmp(s, "mechanism", 9) == 0)
            return "mechanism";
        if (memcmp(s, "challenge", 9) == 0)
            return "challenge";
        if (memcmp(s, "subscribe", 9) == 0)
            return "subscribe";
        if (memcmp(s, "forwarded", 9) == 0)
            return "forwarded";
        if (memcmp(s, "blocklist", 9) == 0)
            return "blocklist";
        if (memcmp(s, "forbidden", 9) == 0)
            return "forbidden";
        if (memcmp(s, "groupchat", 9) == 0)
            return "groupchat";
        return NULL;
    case 10:
        if (memcmp(s, "mechanisms", 10) == 0)
            return "mechanisms";
        if (memcmp(s, "subscribed", 10) == 0)
            return "subscribed";
        return NULL;
    case 11:
        if (memcmp(s, "affiliation", 11) == 0)
            return "affiliation";
        if (memcmp(s, "bad-request", 11) == 0)
            return "bad-request";
        if (memcmp(s, "not-allowed", 11) == 0)
            return "not-allowed";
        if (memcmp(s, "unavailable", 11) == 0)
            return "unavailable";
        if (memcmp(s, "unsubscribe", 11) == 0)
            return "unsubscribe";
        return NULL;
    case 12:
        if (memcmp(s, "acknowledged", 12) == 0)
            return "acknowledged";
        if (memcmp(s, "subscription", 12) == 0)
            return "subscription";
        if (memcmp(s, "unsubscribed", 12) == 0)
            return "unsubscribed";
        return NULL;
    case 13:
        if (memcmp(s, "subscriptions", 13) == 0)
            return "subscriptions";
        if (memcmp(s, "jid-malformed", 13) == 0)
            return "jid-malformed";
        if (memcmp(s, "jabber:client", 13) == 0)
            return "jabber:client";
        if (memcmp(s, "urn:xmpp:sm:3", 13) == 0)
            return "urn:xmpp:sm:3";
        if (memcmp(s, "urn:xmpp:ping", 13) == 0)
            return "urn:xmpp:ping";
        if (memcmp(s, "jabber:x:data", 13) == 0)
            return "jabber:x:data";
        return NULL;
    case 14:
        if (memcmp(s, "item-not-found", 14) == 0)
            return "item-not-found";
        if (memcmp(s, "not-acceptable", 14) == 0)
            return "not-acceptable";
        if (memcmp(s, "not-authorized", 14) == 0)
            return "not-authorized";
        if (memcmp(s, "urn:xmpp:sid:0", 14) == 0)
            return "urn:xmpp:sid:0";
        if (memcmp(s, "urn:xmpp:delay", 14) == 0)
            return "urn:xmpp:delay";
        if (memcmp(s, "jabber:x:delay", 14) == 0)
            return "jabber:x:delay";
        if (memcmp(s, "urn:xmpp:mam:2", 14) == 0)
            return "urn:xmpp:mam:2";
        if (memcmp(s, "urn:xmpp:hints", 14) == 0)
            return "urn:xmpp:hints";
        if (memcmp(s, "urn:xmpp:csi:0", 14) == 0)
            return "urn:xmpp:csi:0";
        return NULL;
    case 16:
        if (memcmp(s, "policy-violation", 16) == 0)
            return "policy-violation";
        if (memcmp(s, "jabber:iq:roster", 16) == 0)
            return "jabber:iq:roster";
        return NULL;
    case 17:
        if (memcmp(s, "urn:xmpp:receipts", 17) == 0)
            return "urn:xmpp:receipts";
        if (memcmp(s, "urn:xmpp:blocking", 17) == 0)
            return "urn:xmpp:blocking";
        return NULL;
    case 18:
        if (memcmp(s, "unexpected-request", 18) == 0)
            return "unexpected-request";
        if (memcmp(s, "urn:xmpp:carbons:2", 18) == 0)
            return "urn:xmpp:carbons:2";
        if (memcmp(s, "urn:xmpp:forward:0", 18) == 0)
            return "urn:xmpp:forward:0";
        return NULL;
    case 19:
        if (memcmp(s, "resource-constraint", 19) == 0)
            return "resource-constraint";
        if (memcmp(s, "service-unavailable", 19) == 0)
            return "service-unavailable";
        if (memcmp(s, "undefined-condition", 19) == 0)
            return "undefined-condition";
        return NULL;
    case 21:
        if (memcmp(s, "internal-server-error", 21) == 0)
            return "internal-server-error";
        if (memcmp(s, "recipient-unavailable", 21) == 0)
            return "recipient-unavailable";
        if (memcmp(s, "registration-required", 21) == 0)
            return "registration-required";
        if (memcmp(s, "remote-server-timeout", 21) == 0)
            return "remote-server-timeout";
        if (memcmp(s, "subscription-required", 21) == 0)
            return "subscription-required";
        return NULL;
    case 23:
        if (memcmp(s, "feature-not-implemented", 23) == 0)
            return "feature-not-implemented";
        if (memcmp(s, "remote-server-not-found", 23) == 0)
            return "remote-server-not-found";
        if (memcmp(s, "urn:xmpp:chat-markers:0", 23) == 0)
            return "urn:xmpp:chat-markers:0";
        return NULL;
    case 30:
        if (memcmp(s, "http://jabber.org/protocol/muc", 30) == 0)
            return "http://jabber.org/protocol/muc";
        return NULL;
    case 31:
        if (memcmp(s, "urn:ietf:params:xml:ns:xmpp-tls", 31) == 0)
            return "urn:ietf:params:xml:ns:xmpp-tls";
        if (memcmp(s, "http://jabber.org/protocol/caps", 31) == 0)
            return "http://jabber.org/protocol/caps";
        return NULL;
    case 32:
        if (memcmp(s, "http://etherx.jabber.org/streams", 32) == 0)
            return "http://etherx.jabber.org/streams";
        if (memcmp(s, "urn:ietf:params:xml:ns:xmpp-sasl", 32) == 0)
            return "urn:ietf:params:xml:ns:xmpp-sasl";
        if (memcmp(s, "urn:ietf:params:xml:ns:xmpp-bind", 32) == 0)
            return "urn:ietf:params:xml:ns:xmpp-bind";
        return NULL;
    case 33:
        if (memcmp(s, "http://jabber.org/protocol/pubsub", 33) == 0)
            return "http://jabber.org/protocol/pubsub";
        return NULL;
    case 35:
        if (memcmp(s, "urn:ietf:params:xml:ns:xmpp-session", 35) == 0)
            return "urn:ietf:params:xml:ns:xmpp-session";
        if (memcmp(s, "urn:ietf:params:xml:ns:xmpp-stanzas", 35) == 0)
            return "urn:ietf:params:xml:ns:xmpp-stanzas";
        if (memcmp(s, "urn:ietf:params:xml:ns:xmpp-streams", 35) == 0)
            return "urn:ietf:params:xml:ns:xmpp-streams";
        if (memcmp(s, "http://jabber.org/protocol/muc#user", 35) == 0)
            return "http://jabber.org/protocol/muc#user";
        return NULL;
    case 36:
        if (memcmp(s, "http://www.w3.org/XML/1998/namespace", 36) == 0)
            return "http://www.w3.org/XML/1998/namespace";
        return NULL;
    case 37:
        if (memcmp(s, "http://jabber.org/protocol/chatstates", 37) == 0)
            return "http://jabber.org/protocol/chatstates";
        if (memcmp(s, "http://jabber.org/protocol/disco#info", 37) == 0)
            return "http://jabber.org/protocol/disco#info";
        return NULL;
    case 38:
        if (memcmp(s, "http://jabber.org/protocol/disco#items", 38) == 0)
            return "http://jabber.org/protocol/disco#items";
        return NULL;
    case 39:
        if (memcmp(s, "http://jabber.org/protocol/pubsub#event", 39) == 0)
            return "http://jabber.org/protocol/pubsub#event";
        return NULL;
    default:
        return NULL;
    }
}
