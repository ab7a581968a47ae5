/* A scripted, in-process XMPP server for unit tests of plugins: plaintext
 * c2s on 127.0.0.1, SASL ANONYMOUS, resource binding; after that it records
 * what the client sends and sends what the test tells it to.
 *
 * It runs in the test's thread: fake_server_run() and the functions that
 * wait alternate between canto_loop_run_once() on the client's loop and a
 * non-blocking poll of the server's own sockets, so no thread is involved.
 * Uses only the public API (plus POSIX sockets).
 *
 * Typical use:
 *
 *     fake_server *fs;
 *     fake_server_new("juliet@example.com/balcony", &fs);
 *     canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
 *     fake_server_client_options(fs, &o);
 *     canto_client_new(loop, "example.com", &o, &client);   // domain only: ANONYMOUS
 *     fake_server_connect(fs, loop, client, 5000);           // 0 once CONNECTED
 *     fake_server_send(fs, "<iq type='set' id='p1'>...</iq>");
 *     canto_stanza *st = fake_server_next(fs, loop, 2000);  // what the client sent
 *
 * The client's JID after binding is the one given to fake_server_new(); the
 * client must be configured with a JID of the same domain. The server accepts
 * one connection at a time; after the client goes away (or fake_server_drop())
 * the next connection is negotiated afresh.
 */
#ifndef CANTO_TEST_FAKE_SERVER_H
#define CANTO_TEST_FAKE_SERVER_H

#include <stddef.h>

#include <canto/canto.h>

typedef struct fake_server fake_server;

/* Listen on 127.0.0.1, a free port. @p bound_jid is the full JID handed to
 * the client at bind time (its domain is the server's name). Returns 0 or -1. */
int fake_server_new(const char *bound_jid, fake_server **out);
void fake_server_free(fake_server *fs);

/* Extra stream features offered with <bind/> after authentication (raw XML,
 * copied; e.g. "<ver xmlns='urn:xmpp:features:rosterver'/>"). NULL: none. */
int fake_server_set_features(fake_server *fs, const char *xml);

/* Stream management (XEP-0198): with @p offer, <sm xmlns='urn:xmpp:sm:3'/> is
 * offered after authentication; <enable/> is answered with a resumable
 * <enabled/>, <r/> with <a/> counting the stanzas received, and after
 * fake_server_drop() the client's <resume/> with <resumed/> (or <failed/>
 * when @p refuse_resume is set, so the client binds a new session). Stanzas
 * are never resent by this server on resumption. Off by default. */
void fake_server_set_sm(fake_server *fs, int offer, int refuse_resume);

/* Number of sessions resumed with <resumed/> so far. */
unsigned fake_server_resumptions(const fake_server *fs);

unsigned fake_server_port(const fake_server *fs);

/* Fill host, port and tls (plaintext) of @p opts for this server. */
void fake_server_client_options(fake_server *fs, canto_client_options *opts);

/* Drive the loop and the server for @p ms milliseconds. */
void fake_server_run(fake_server *fs, canto_loop *loop, int ms);

/* Drive both until @p cond(ud) is true or @p timeout_ms passed; returns 1 if
 * it became true. */
int fake_server_wait(fake_server *fs, canto_loop *loop, int (*cond)(void *ud), void *ud,
                     int timeout_ms);

/* canto_client_connect() and wait until CONNECTED: 0, or -1 on timeout or
 * failure. */
int fake_server_connect(fake_server *fs, canto_loop *loop, canto_client *client, int timeout_ms);

/* Queue raw XML for the client (printf-style) and flush what the socket takes.
 * Returns 0, or -1 when no session is established. */
int fake_server_send(fake_server *fs, const char *fmt, ...) CANTO_PRINTF(2, 3);

/* Wait until the client has handled everything sent to it so far: send it an
 * iq get nobody handles (<sync xmlns='urn:canto:test:sync'/>) and wait for
 * its answer (service-unavailable), which is taken out of the received queue;
 * whatever the client sent before it stays there, in order. Returns 0, or -1
 * without a session or on timeout. */
int fake_server_sync(fake_server *fs, canto_loop *loop, int timeout_ms);

/* The next stanza the client sent after its session was established, waiting
 * up to @p timeout_ms; the caller frees it with canto_stanza_free(). NULL on
 * timeout. Whitespace keepalives are not stanzas. */
canto_stanza *fake_server_next(fake_server *fs, canto_loop *loop, int timeout_ms);

/* Like fake_server_next() but skips (and frees) stanzas that are not named
 * @p name or whose "type" differs from @p type (NULL: no type attribute). */
canto_stanza *fake_server_next_named(fake_server *fs, canto_loop *loop, const char *name,
                                     const char *type, int timeout_ms);

/* How many received stanzas are waiting for fake_server_next(). */
size_t fake_server_pending(const fake_server *fs);

/* Forget the received stanzas waiting for fake_server_next(). */
void fake_server_discard(fake_server *fs);

/* Close the client's connection abruptly (TCP close, no </stream:stream>). */
void fake_server_drop(fake_server *fs);

/* 1 while a client connection is open. */
int fake_server_connected(const fake_server *fs);

/* Number of new sessions established (bind answered) so far. */
unsigned fake_server_sessions(const fake_server *fs);

/* 1 once the client closed its stream with </stream:stream> (the server then
 * answers with its own and closes). Reset by the next connection. */
int fake_server_client_closed(const fake_server *fs);

#endif
