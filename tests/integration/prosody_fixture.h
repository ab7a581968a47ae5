/* The Prosody fixture the integration tests share: tests/servers/prosody.sh
 * started in a fresh directory under /tmp, what it wrote to DIR/env, client
 * options for its accounts, and stopping it with the directory removed (or
 * kept, with its logs, when something failed).
 *
 * One server per process: the state is file-static, as each test is its own
 * executable. Typical use:
 *
 *     int rc = prosody_start("xeps");           // 0, 77 (not installed) or 1
 *     if (rc)
 *         return rc;
 *     canto_client_options o = CANTO_CLIENT_OPTIONS_INIT;
 *     prosody_client_options(&o, "alice-secret");
 *     ...
 *     int result = CHECK_DONE();
 *     prosody_stop(result != 0);
 *     return result;
 *
 * Scripts read extra settings from the environment (CANTO_PROSODY_*): set
 * them before prosody_start(). Compiled with -DCANTO_SERVERS_DIR. */
#ifndef CANTO_TEST_PROSODY_FIXTURE_H
#define CANTO_TEST_PROSODY_FIXTURE_H

#include <sys/types.h>

#include <canto/client.h>

/* Make /tmp/canto-NAME.XXXXXX and run "prosody.sh start" there. Returns 0;
 * 77 when prosody is not installed (the directory is gone again); 1 when it
 * did not start or wrote no CA or STARTTLS port to DIR/env (it is stopped
 * again and the directory kept: the reason is in its logs). */
int prosody_start(const char *name);

/* Stop "prosody.sh" and remove the directory, unless @p keep: then say
 * where it is. Servers started with prosody_script() are the caller's to
 * stop first. Returns the exit status of "prosody.sh stop", or -1. */
int prosody_stop(int keep);

/* Run @p argv (a bash command line, NULL-terminated) with stdout to
 * /dev/null, e.g. for a helper server of the test's own kept under
 * prosody_dir(). Returns the exit status, or -1. */
int prosody_run_bash(char *const argv[]);

/* Run "bash CANTO_SERVERS_DIR/SCRIPT VERB DIR" with stdout to /dev/null, for
 * more servers in the same directory or verbs other than start and stop.
 * Returns the exit status, or -1. */
int prosody_script(const char *script, const char *verb);

/* The same without waiting; prosody_wait() returns the exit status (or -1). */
int prosody_script_async(const char *script, const char *verb, pid_t *pid);
int prosody_wait(pid_t pid);

/* The value of KEY in DIR/env, read afresh (scripts append to it), or NULL.
 * Borrowed until the next call. */
const char *prosody_env(const char *key);

/* KEY from DIR/env as a number; 0 when absent. */
unsigned prosody_env_port(const char *key);

/* The directory, the test CA (PEM) and the STARTTLS port; valid after a
 * successful prosody_start(). */
const char *prosody_dir(void);
const char *prosody_ca(void);
unsigned prosody_port(void);

/* Fill @p o to log in with @p password over STARTTLS to 127.0.0.1, trusting
 * only the test CA. The strings stay valid until prosody_stop(). */
void prosody_client_options(canto_client_options *o, const char *password);

/* A client for USER@localhost/RESOURCE, an account prosody.sh made (password
 * "USER-secret"), with @p o's other settings: prosody_client_options() fills
 * in the connection. Not connected yet. Returns 0 or a CANTO_E* code; the
 * caller owns *out. */
int prosody_client_new(canto_loop *loop, const char *user, const char *resource,
                       canto_client_options *o, canto_client **out);

/* Run @p loop until done(arg) returns non-zero. Returns 1 then; 0 when
 * @p timeout_ms pass first or the loop fails. */
int prosody_run_until(canto_loop *loop, int (*done)(void *), void *arg, unsigned timeout_ms);

/* prosody_run_until() for callbacks that count: until *counter >= want. */
int prosody_wait_for(canto_loop *loop, const int *counter, int want, unsigned timeout_ms);

/* Run @p loop for @p ms whatever happens (to see that nothing else does, or
 * to give the server time). */
void prosody_run_for(canto_loop *loop, unsigned ms);

/* Send a presence of @p type to @p to (both NULL: available, to the server).
 * Returns 0 or a CANTO_E* code. */
int prosody_send_presence(canto_client *c, const char *type, const char *to);

/* A canto_log_fn printing "  [LABEL] level area: message" to stderr, where
 * the log user data is LABEL (a string). */
void prosody_log(void *label, canto_log_level level, const char *area, const char *msg);

#endif
