/* See prosody_fixture.h. */
#include "prosody_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CANTO_SERVERS_DIR
#error "CANTO_SERVERS_DIR must name tests/servers"
#endif

extern char **environ;

static char dir[64];
static char ca[256];
static unsigned port;

static int spawn_quiet(char *const argv[], pid_t *pid)
{
    /* The scripts narrate on stdout; a failure still shows on stderr. */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(pid, "bash", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? 0 : -1;
}

int prosody_script_async(const char *script, const char *verb, pid_t *pid)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", CANTO_SERVERS_DIR, script);
    char *argv[] = {"bash", path, (char *)verb, dir, NULL};
    return spawn_quiet(argv, pid);
}

int prosody_wait(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int prosody_run_bash(char *const argv[])
{
    pid_t pid;
    if (spawn_quiet(argv, &pid) != 0)
        return -1;
    return prosody_wait(pid);
}

int prosody_script(const char *script, const char *verb)
{
    pid_t pid;
    if (prosody_script_async(script, verb, &pid) != 0)
        return -1;
    return prosody_wait(pid);
}

const char *prosody_env(const char *key)
{
    static char value[256];
    char path[128], line[512];
    snprintf(path, sizeof(path), "%s/env", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t klen = strlen(key);
    const char *found = NULL;
    while (!found && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            snprintf(value, sizeof(value), "%s", line + klen + 1);
            found = value;
        }
    }
    fclose(f);
    return found;
}

unsigned prosody_env_port(const char *key)
{
    const char *v = prosody_env(key);
    return v ? (unsigned)atoi(v) : 0;
}

int prosody_start(const char *name)
{
    snprintf(dir, sizeof(dir), "/tmp/canto-%s.XXXXXX", name);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = prosody_script("prosody.sh", "start");
    if (rc == 77) {
        fprintf(stderr, "prosody not installed: skipped\n");
        rmdir(dir);
        return 77;
    }
    const char *v = rc == 0 ? prosody_env("CANTO_PROSODY_CA") : NULL;
    snprintf(ca, sizeof(ca), "%s", v ? v : "");
    port = prosody_env_port("CANTO_PROSODY_STARTTLS_PORT");
    if (rc != 0 || !ca[0] || !port) {
        fprintf(stderr, "prosody did not start (%d); see %s\n", rc, dir);
        prosody_stop(1);
        return 1;
    }
    return 0;
}

int prosody_stop(int keep)
{
    int rc = prosody_script("prosody.sh", "stop");
    if (keep) {
        fprintf(stderr, "server files kept in %s\n", dir);
        return rc;
    }
    char *argv[] = {"rm", "-rf", dir, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0)
        prosody_wait(pid);
    return rc;
}

const char *prosody_dir(void)
{
    return dir;
}

const char *prosody_ca(void)
{
    return ca;
}

unsigned prosody_port(void)
{
    return port;
}

void prosody_client_options(canto_client_options *o, const char *password)
{
    o->password = password;
    o->host = "127.0.0.1";
    o->port = port;
    o->ca_file = ca;
    o->no_system_trust = 1;
}

int prosody_client_new(canto_loop *loop, const char *user, const char *resource,
                       canto_client_options *o, canto_client **out)
{
    char jid[128], password[128];
    snprintf(jid, sizeof(jid), "%s@localhost", user);
    snprintf(password, sizeof(password), "%s-secret", user);
    prosody_client_options(o, password);
    o->resource = resource;
    int rc = canto_client_new(loop, jid, o, out);
    /* The options keep no pointer to this stack buffer past the call. */
    o->password = NULL;
    return rc;
}

int prosody_run_until(canto_loop *loop, int (*done)(void *), void *arg, unsigned timeout_ms)
{
    uint64_t deadline = canto_loop_now(loop) + timeout_ms;
    while (!done(arg)) {
        if (canto_loop_now(loop) >= deadline)
            return 0;
        if (canto_loop_run_once(loop, 100) < 0)
            return 0;
    }
    return 1;
}

typedef struct counter_wait {
    const int *counter;
    int want;
} counter_wait;

static int counter_reached(void *arg)
{
    const counter_wait *w = arg;
    return *w->counter >= w->want;
}

int prosody_wait_for(canto_loop *loop, const int *counter, int want, unsigned timeout_ms)
{
    counter_wait w = {counter, want};
    return prosody_run_until(loop, counter_reached, &w, timeout_ms);
}

void prosody_run_for(canto_loop *loop, unsigned ms)
{
    uint64_t end = canto_loop_now(loop) + ms;
    while (canto_loop_now(loop) < end)
        canto_loop_run_once(loop, 20);
}

int prosody_send_presence(canto_client *c, const char *type, const char *to)
{
    canto_stanza *p = NULL;
    int rc = canto_stanza_new_presence(NULL, type, to, &p);
    if (rc == 0)
        rc = canto_client_send(c, p);
    canto_stanza_free(p);
    return rc;
}

void prosody_log(void *label, canto_log_level level, const char *area, const char *msg)
{
    fprintf(stderr, "  [%s] %s %s: %s\n", (const char *)label, canto_log_level_name(level), area,
            msg);
}
