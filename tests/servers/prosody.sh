#!/usr/bin/env bash
# A throwaway Prosody (Debian 12: prosody 0.12) for the tests, on 127.0.0.1
# only, in a directory of its own: config, data, logs, pid files and its own
# certificates (certs.sh: a test CA, a cert for localhost, one for another
# name, and an untrusted CA).
#
#   prosody.sh start DIR
#       Starts two instances and returns once both accept connections:
#         main   host "localhost": c2s with STARTTLS required, c2s Direct
#                TLS (XEP-0368, ALPN "xmpp-client" accepted), users alice/bob/carol, components
#                conference.localhost (MUC) and pubsub.localhost (where
#                alice is admin, so that she may create nodes), stream
#                management (smacks), authentication "internal_plain"
#                (offers SCRAM-SHA-1, SCRAM-SHA-256, PLAIN; -PLUS variants
#                only over TLS 1.2, as tls-unique).
#         plain  host "localhost" WITHOUT STARTTLS (mod_tls not loaded, no
#                encryption required), user alice; plus a Direct TLS port that
#                presents the certificate for wrong.example (signed by the
#                trusted CA) to test name checks against a real server.
#       Writes DIR/env, a shell-sourceable KEY=VALUE file (no quotes or
#       spaces in values), with these keys:
#         CANTO_PROSODY_DOMAIN          localhost
#         CANTO_PROSODY_STARTTLS_PORT   main c2s (STARTTLS)
#         CANTO_PROSODY_DIRECT_TLS_PORT main c2s Direct TLS
#         CANTO_PROSODY_PLAIN_PORT      plain c2s (no STARTTLS offered)
#         CANTO_PROSODY_WRONG_TLS_PORT  plain Direct TLS, cert for wrong.example
#         CANTO_PROSODY_CA              the CA to trust (PEM)
#         CANTO_PROSODY_UNTRUSTED_CA    another CA (PEM), not the servers'
#         CANTO_PROSODY_UNTRUSTED_CERT  cert+key from it: DIR/certs/untrusted.{pem,key}
#         CANTO_PROSODY_PIN             pin-sha256 (base64) of the main server key
#         CANTO_PROSODY_USERS           alice,bob,carol
#         CANTO_PROSODY_PASSWORD_<user> their passwords
#         CANTO_PROSODY_MUC             conference.localhost
#         CANTO_PROSODY_PUBSUB          pubsub.localhost
#       With CANTO_PROSODY_EXTRA_USERS=N in the environment, the main
#       instance also has users bench0..bench<N-1> (password bench<i>-secret),
#       written straight into its data directory (prosodyctl takes about a
#       second per user), env gets CANTO_PROSODY_EXTRA_USERS=N, and the
#       instances run with the hard limit of open files as their soft limit.
#       With CANTO_PROSODY_ALLOW_REGISTRATION=1 in the environment, the main
#       instance also allows in-band registration (XEP-0077: mod_register,
#       allow_registration = true), and its users may change their password
#       and delete their account.
#       Exit 77 if prosody or certtool is not installed (meson's "skip"),
#       1 on any other failure (the instances started so far are stopped).
#   prosody.sh stop DIR
#       Stops the instances started for DIR, by the PIDs in their pid files
#       (nothing else), and waits for them.
#   prosody.sh stop-main DIR
#   prosody.sh start-main DIR
#       Stop only the main instance started for DIR (as stop does), or start
#       it again with the same configuration, accounts and ports, returning
#       once it accepts connections: a server restart, which loses what
#       Prosody keeps in memory (stream management sessions) but not what it
#       stores (offline messages).
#   CANTO_PROSODY_RELIABILITY=1 in the environment of start
#       gives the main instance's host settings for the reliability tests:
#       stream management sessions that survive a long outage and many
#       unacknowledged stanzas (smacks_hibernation_time = 3600,
#       smacks_max_queue_size = 100000), Client State Indication
#       (mod_csi_simple, which offers urn:xmpp:csi:0), and
#       prosody-modules/mod_canto_resume_fix.lua, a work-around for a
#       Prosody 0.12 resumption bug (described there).
#
# CI: `apt-get install -y prosody gnutls-bin`. The package's own service
# must not hold port 5222; these instances use other, free ports anyway. In
# containers Debian's policy-rc.d usually stops the package from starting
# it; otherwise run `service prosody stop` (or `invoke-rc.d prosody stop`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
users=(alice bob carol)

password() { echo "$1-secret"; }

die() {
    echo "prosody.sh: $*" >&2
    exit 1
}

# A TCP port on 127.0.0.1 that nothing listens on (and not handed out yet),
# below the range the kernel hands out to outgoing connections: the clients
# of tests running at the same time must not take it before Prosody binds it.
taken=" "
free_port() {
    local port low _
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    ((low > 12000)) || low=60000
    for _ in $(seq 1 100); do
        port=$((10000 + RANDOM % (low - 10000)))
        [[ $taken == *" $port "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            taken+="$port "
            echo "$port"
            return 0
        fi
    done
    die "no free port"
}

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# write_config FILE INSTANCE_DIR: the settings both instances share.
common_config() {
    local inst=$1
    cat <<EOF
-- Generated by tests/servers/prosody.sh; throwaway.
$([[ $(id -u) == 0 ]] && echo 'run_as_root = true')
pidfile = "$inst/prosody.pid"
data_path = "$inst/data"
log = { info = "$inst/prosody.log"; error = "$inst/error.log" }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
s2s_ports = {}
http_ports = {}
https_ports = {}
component_ports = {}
authentication = "internal_plain"
storage = "internal"
-- Certificates only where configured below: never look in /etc/prosody.
certificates = "$inst/no-certs"
EOF
}

# Settings for CANTO_PROSODY_RELIABILITY=1 (see the top): global, then for
# the host.
reliability_global() {
    [[ ${CANTO_PROSODY_RELIABILITY:-0} == 1 ]] || return 0
    echo "plugin_paths = { \"$here/prosody-modules\" }"
}

reliability_settings() {
    [[ ${CANTO_PROSODY_RELIABILITY:-0} == 1 ]] || return 0
    cat <<EOF
    modules_enabled = { "csi_simple"; "canto_resume_fix" }
    smacks_hibernation_time = 3600
    smacks_max_queue_size = 100000
EOF
}

main_config() {
    local inst=$1 certs=$2 register_module= allow_registration=false
    if [[ ${CANTO_PROSODY_ALLOW_REGISTRATION:-0} == 1 ]]; then
        register_module='"register";'
        allow_registration=true
    fi
    common_config "$inst"
    reliability_global
    cat <<EOF
c2s_ports = { $STARTTLS_PORT }
c2s_direct_tls_ports = { $DIRECT_TLS_PORT }
c2s_require_encryption = true
modules_enabled = {
    "roster"; "saslauth"; "tls"; "disco"; "ping"; "pep"; "private";
    "carbons"; "blocklist"; "vcard_legacy"; "smacks"; "posix"; $register_module
}
modules_disabled = { "s2s" }
allow_registration = $allow_registration
ssl = { certificate = "$certs/localhost.pem"; key = "$certs/localhost.key" }
-- LuaSec wants the ALPN list as a table.
c2s_direct_tls_ssl = {
    certificate = "$certs/localhost.pem"; key = "$certs/localhost.key";
    alpn = { "xmpp-client" };
}

VirtualHost "localhost"
    ssl = { certificate = "$certs/localhost.pem"; key = "$certs/localhost.key" }
$(reliability_settings)

Component "conference.localhost" "muc"
Component "pubsub.localhost" "pubsub"
    -- Prosody's pubsub component lets only admins create nodes. Scoped to
    -- this component so that alice stays an ordinary user (and not the owner
    -- of every room) everywhere else.
    admins = { "alice@localhost" }
EOF
}

plain_config() {
    local inst=$1 certs=$2
    common_config "$inst"
    cat <<EOF
c2s_ports = { $PLAIN_PORT }
c2s_direct_tls_ports = { $WRONG_TLS_PORT }
c2s_require_encryption = false
allow_unencrypted_plain_auth = false
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "smacks"; "posix" }
modules_disabled = { "s2s"; "tls" }
c2s_direct_tls_ssl = { certificate = "$certs/wrong.pem"; key = "$certs/wrong.key" }

VirtualHost "localhost"
EOF
}

# Accounts bench0..bench<N-1> of the main instance, in Prosody's internal
# storage format (authentication "internal_plain": the password as is).
extra_users() {
    local dir=$1/data/localhost/accounts i
    mkdir -p "$dir"
    for ((i = 0; i < EXTRA_USERS; i++)); do
        # The password as password() makes it, without a subshell per user.
        printf 'return {\n\t["password"] = "%s";\n};\n' "bench$i-secret" >"$dir/bench$i.dat"
    done
}

# start_instance NAME CONFIG_FN USERS...: write the config, register the
# users, start prosody and wait for its pid file.
start_instance() {
    local name=$1 config_fn=$2
    shift 2
    local inst=$DIR/$name
    mkdir -p "$inst/data" "$inst/no-certs"
    "$config_fn" "$inst" "$DIR/certs" >"$inst/prosody.cfg.lua"
    local u
    for u in "$@"; do
        prosodyctl --config "$inst/prosody.cfg.lua" register "$u" localhost "$(password "$u")" \
            >>"$inst/prosodyctl.log" 2>&1 || die "cannot register $u (see $inst/prosodyctl.log)"
    done
    [[ $name != main ]] || extra_users "$inst"
    # -D: fork into the background; the child writes the pid file.
    prosody --config "$inst/prosody.cfg.lua" -D >>"$inst/stdout.log" 2>&1 ||
        die "$name did not start (see $inst)"
    for _ in $(seq 1 100); do
        [[ -s $inst/prosody.pid ]] && return 0
        sleep 0.1
    done
    die "$name wrote no pid file (see $inst/error.log)"
}

stop_instance() {
    local pidfile=$1/prosody.pid pid
    [[ -s $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    # Only our own process: a recycled PID must not be killed.
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$1/prosody.cfg.lua"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

start() {
    command -v prosody >/dev/null 2>&1 && command -v prosodyctl >/dev/null 2>&1 || {
        echo "prosody not installed (apt-get install prosody)" >&2
        exit 77
    }
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    local rc=0
    bash "$here/certs.sh" "$DIR/certs" || rc=$?
    ((rc == 0)) || exit "$rc"

    EXTRA_USERS=${CANTO_PROSODY_EXTRA_USERS:-0}
    [[ $EXTRA_USERS =~ ^[0-9]+$ ]] || die "CANTO_PROSODY_EXTRA_USERS is not a number"
    if ((EXTRA_USERS > 0)); then
        ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    fi
    STARTTLS_PORT=$(free_port)
    DIRECT_TLS_PORT=$(free_port)
    PLAIN_PORT=$(free_port)
    WRONG_TLS_PORT=$(free_port)
    # On failure, leave nothing running.
    trap 'stop_instance "$DIR/main"; stop_instance "$DIR/plain"' ERR EXIT
    start_instance main main_config "${users[@]}"
    start_instance plain plain_config alice
    local p
    for p in "$STARTTLS_PORT" "$DIRECT_TLS_PORT" "$PLAIN_PORT" "$WRONG_TLS_PORT"; do
        wait_port "$p" || die "port $p not listening (see $DIR/*/error.log)"
    done
    trap - ERR EXIT

    {
        echo "CANTO_PROSODY_DOMAIN=localhost"
        echo "CANTO_PROSODY_STARTTLS_PORT=$STARTTLS_PORT"
        echo "CANTO_PROSODY_DIRECT_TLS_PORT=$DIRECT_TLS_PORT"
        echo "CANTO_PROSODY_PLAIN_PORT=$PLAIN_PORT"
        echo "CANTO_PROSODY_WRONG_TLS_PORT=$WRONG_TLS_PORT"
        echo "CANTO_PROSODY_CA=$DIR/certs/ca.pem"
        echo "CANTO_PROSODY_UNTRUSTED_CA=$DIR/certs/untrusted-ca.pem"
        echo "CANTO_PROSODY_UNTRUSTED_CERT=$DIR/certs/untrusted.pem"
        echo "CANTO_PROSODY_PIN=$(cat "$DIR/certs/localhost.pin")"
        echo "CANTO_PROSODY_USERS=$(
            IFS=,
            echo "${users[*]}"
        )"
        for u in "${users[@]}"; do
            echo "CANTO_PROSODY_PASSWORD_$u=$(password "$u")"
        done
        ((EXTRA_USERS == 0)) || echo "CANTO_PROSODY_EXTRA_USERS=$EXTRA_USERS"
        echo "CANTO_PROSODY_MUC=conference.localhost"
        echo "CANTO_PROSODY_PUBSUB=pubsub.localhost"
    } >"$DIR/env"
}

stop() {
    [[ -d $DIR ]] || return 0
    DIR=$(cd "$DIR" && pwd)
    stop_instance "$DIR/main"
    stop_instance "$DIR/plain"
}

stop_main() {
    [[ -d $DIR ]] || return 0
    DIR=$(cd "$DIR" && pwd)
    stop_instance "$DIR/main"
}

start_main() {
    DIR=$(cd "$DIR" && pwd)
    local inst=$DIR/main port
    [[ -f $inst/prosody.cfg.lua && -f $DIR/env ]] || die "nothing was started in $DIR"
    [[ ! -s $inst/prosody.pid ]] || die "main is running (pid file $inst/prosody.pid)"
    prosody --config "$inst/prosody.cfg.lua" -D >>"$inst/stdout.log" 2>&1 ||
        die "main did not start again (see $inst)"
    for _ in $(seq 1 100); do
        [[ -s $inst/prosody.pid ]] && break
        sleep 0.1
    done
    [[ -s $inst/prosody.pid ]] || die "main wrote no pid file (see $inst/error.log)"
    while read -r port; do
        wait_port "$port" || die "port $port not listening (see $inst/error.log)"
    done < <(sed -n 's/^CANTO_PROSODY_\(STARTTLS\|DIRECT_TLS\)_PORT=//p' "$DIR/env")
}

case "${1:-}" in
start | stop)
    DIR=${2:?usage: prosody.sh start|stop DIR}
    "$1"
    ;;
stop-main | start-main)
    DIR=${2:?usage: prosody.sh stop-main|start-main DIR}
    "${1/-/_}"
    ;;
*)
    echo "usage: prosody.sh start|stop|stop-main|start-main DIR" >&2
    exit 2
    ;;
esac
