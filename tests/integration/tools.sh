#!/usr/bin/env bash
# The command-line tools end to end: canto-echo and canto-send against a
# throwaway Prosody (tests/servers/prosody.sh) and dnsmasq (dnsmasq.sh).
#
#   tools.sh EXAMPLES_DIR SERVERS_DIR
#
# Checks:
#   - canto-echo as bob prints "alice@localhost/RESOURCE<TAB>TEXT" for each
#     message canto-send sends as alice (STARTTLS, Direct TLS, text from
#     standard input), and alice receives the echoes (read back by a
#     canto-echo as alice: the server kept them while she was offline);
#   - canto-echo exits 0 on SIGTERM after closing its stream;
#   - exit codes: 1 bad usage, 2 DNS or connection failure (refused, no such
#     domain), 3 TLS (certificate for another name, untrusted CA, no
#     STARTTLS offered), 4 wrong password;
#   - under strace, canto-send finding the server through SRV records
#     (--resolver pointing at dnsmasq) never opens /etc/nsswitch.conf, never
#     talks to port 53, connects only sockets made with SOCK_NONBLOCK, and
#     runs as one thread.
#
# Exit 77 (skip) when prosody or strace is not installed, 1 on any failure
# (the temporary directory with all logs is then kept and named).
#
# CANTO_TOOLS_WRAPPER, if set, is a command prefix for every run of the tools
# (e.g. "valgrind -q --error-exitcode=99 --leak-check=full"); waits are then
# ten times longer. The strace check always runs the tool directly.
set -euo pipefail

bin=${1:?usage: tools.sh EXAMPLES_DIR SERVERS_DIR}
servers=${2:?usage: tools.sh EXAMPLES_DIR SERVERS_DIR}
send=$bin/canto-send
echo_tool=$bin/canto-echo
[[ -x $send && -x $echo_tool ]] || {
    echo "tools.sh: $send or $echo_tool is not built" >&2
    exit 1
}
for tool in prosody strace; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "tools.sh: $tool is not installed: skipped" >&2
        exit 77
    fi
done
unset CANTO_JID CANTO_PASSWORD

wrap=()
scale=1
if [[ -n ${CANTO_TOOLS_WRAPPER:-} ]]; then
    read -r -a wrap <<<"$CANTO_TOOLS_WRAPPER"
    scale=10
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/canto-tools.XXXXXX")
export CANTO_TEST_OWNER_PID=$$ # dnsmasq's watchdog: gone when we are
failures=0
running=() # PIDs of the tools started in the background, not yet reaped

cleanup() {
    local pid
    for pid in "${running[@]}"; do
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    bash "$servers/dnsmasq.sh" stop "$tmp/dns" || true
    bash "$servers/prosody.sh" stop "$tmp/prosody" || true
    if ((failures == 0)); then
        rm -rf "$tmp"
    else
        echo "logs kept in $tmp" >&2
    fi
}
trap cleanup EXIT

fail() {
    echo "FAIL $*" >&2
    failures=$((failures + 1))
}
ok() { echo "ok   $*"; }

# ------------------------------------------------------------------------
# Servers and accounts

rc=0
bash "$servers/prosody.sh" start "$tmp/prosody" || rc=$?
if ((rc == 77)); then
    failures=0
    exit 77
elif ((rc != 0)); then
    fail "prosody.sh start (exit $rc)"
    exit 1
fi
# shellcheck source=/dev/null # written by prosody.sh
source "$tmp/prosody/env"
ca=$CANTO_PROSODY_CA
starttls=127.0.0.1:$CANTO_PROSODY_STARTTLS_PORT
for u in alice bob; do
    printf '%s-secret\n' "$u" >"$tmp/$u.password"
done
echo wrong >"$tmp/wrong.password"

# A port on 127.0.0.1 nothing listens on.
dead_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    echo "$port"
}

# The options to log in as alice or bob over STARTTLS.
alice=(--jid alice@localhost --password-file "$tmp/alice.password" --server "$starttls" --ca-file "$ca")
bob=(--jid bob@localhost --password-file "$tmp/bob.password" --server "$starttls" --ca-file "$ca")

# expect_exit CODE WHAT COMMAND...: run it (stderr to a file) and compare.
expect_exit() {
    local want=$1 what=$2 got=0
    shift 2
    "${wrap[@]}" "$@" </dev/null >"$tmp/last.out" 2>"$tmp/last.err" || got=$?
    local msg
    msg=$(head -n 1 "$tmp/last.err")
    if ((got == want)); then
        ok "$what: exit $got${msg:+ ($msg)}"
    else
        fail "$what: exit $got, expected $want; stderr:"
        sed 's/^/    /' "$tmp/last.err" >&2
    fi
}

# wait_for FILE STRING PID: until FILE contains STRING, while PID lives.
wait_for() {
    local file=$1 string=$2 pid=$3 i
    for ((i = 0; i < 300 * scale; i++)); do
        grep -qF -- "$string" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    grep -qF -- "$string" "$file" 2>/dev/null
}

# forget PID: drop it from the list of running tools.
forget() {
    local keep=() p
    for p in "${running[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    running=("${keep[@]}")
}

# start_echo USER ARGS...: canto-echo as USER in the background, once
# online. Sets echo_pid; output in $tmp/echo-USER.{out,err}.
start_echo() {
    local user=$1
    shift
    "${wrap[@]}" "$echo_tool" "$@" </dev/null >"$tmp/echo-$user.out" 2>"$tmp/echo-$user.err" &
    echo_pid=$!
    running+=("$echo_pid")
    if ! wait_for "$tmp/echo-$user.err" 'canto-echo: online as ' "$echo_pid"; then
        fail "canto-echo as $user did not come online:"
        sed 's/^/    /' "$tmp/echo-$user.err" >&2
        return 1
    fi
}

# stop_echo USER PID: SIGTERM, and expect exit 0 after a clean close.
stop_echo() {
    local user=$1 pid=$2 got=0
    kill -TERM "$pid"
    wait "$pid" || got=$?
    forget "$pid"
    if ((got == 0)); then
        ok "canto-echo as $user: exit 0 on SIGTERM"
    else
        fail "canto-echo as $user: exit $got on SIGTERM; stderr:"
        sed 's/^/    /' "$tmp/echo-$user.err" >&2
    fi
}

# count_lines FILE FROM TEXT: how many lines FROM<TAB>TEXT; a FROM ending
# in "/" stands for any full JID of that account.
count_lines() {
    awk -F '\t' -v from="$2" -v text="$3" '
        function match_from(f) {
            if (substr(from, length(from)) == "/")
                return index(f, from) == 1 && length(f) > length(from)
            return f == from
        }
        $2 == text && match_from($1) { n++ }
        END { print n + 0 }' "$1"
}

# check_line FILE FROM TEXT WHAT: exactly one such line.
check_line() {
    local n
    n=$(count_lines "$1" "$2" "$3")
    if ((n == 1)); then
        ok "$4: $(grep -F -- "$tab$3" "$1")"
    else
        fail "$4: $n lines $2...<TAB>$3 in $1:"
        sed 's/^/    /' "$1" >&2
    fi
}

# ------------------------------------------------------------------------
# Exit codes (nothing is delivered by these)

expect_exit 1 "canto-send without arguments" "$send"
expect_exit 1 "canto-send without a recipient" "$send" "${alice[@]}"
expect_exit 1 "canto-send with an unknown option" "$send" --frobnicate "${alice[@]}" bob@localhost hi
expect_exit 1 "canto-send to an invalid JID" "$send" "${alice[@]}" 'bob@@localhost' hi
expect_exit 1 "canto-send with port 0" "$send" --jid alice@localhost --server 127.0.0.1:0 bob@localhost hi
expect_exit 1 "canto-send with an invalid account" "$send" --jid '@localhost' bob@localhost hi
expect_exit 1 "canto-echo with an extra argument" "$echo_tool" "${bob[@]}" extra
expect_exit 2 "canto-send, connection refused" "$send" --jid alice@localhost \
        --password-file "$tmp/alice.password" --server "127.0.0.1:$(dead_port)" bob@localhost hi
    expect_exit 3 "canto-send, certificate for another name" "$send" --jid alice@localhost \
        --password-file "$tmp/alice.password" --ca-file "$ca" --direct-tls \
        --server "127.0.0.1:$CANTO_PROSODY_WRONG_TLS_PORT" bob@localhost hi
    expect_exit 3 "canto-send, untrusted CA" "$send" --jid alice@localhost \
        --password-file "$tmp/alice.password" --ca-file "$CANTO_PROSODY_UNTRUSTED_CA" \
        --server "$starttls" bob@localhost hi
    expect_exit 3 "canto-send, no STARTTLS offered" "$send" --jid alice@localhost \
        --password-file "$tmp/alice.password" --ca-file "$ca" \
        --server "127.0.0.1:$CANTO_PROSODY_PLAIN_PORT" bob@localhost hi
    expect_exit 4 "canto-send, wrong password" "$send" --jid alice@localhost \
        --password-file "$tmp/wrong.password" --ca-file "$ca" --server "$starttls" bob@localhost hi
    expect_exit 4 "canto-echo, wrong password" "$echo_tool" --jid bob@localhost \
        --password-file "$tmp/wrong.password" --ca-file "$ca" --server "$starttls"

# ------------------------------------------------------------------------
# Messages both ways

tab=$(printf '\t')
text1="Hello Bob, this is alice ($$)"
text2="Direct TLS from alice"
text3="from standard input"
if start_echo bob "${bob[@]}"; then
    bob_pid=$echo_pid
    bob_jid=$(sed -n 's/^canto-echo: online as //p' "$tmp/echo-bob.err")
    # Hold bob's echo while alice sends: a reply reaching alice's resource
    # while canto-send is logging out would be dropped by the server; once
    # she is offline, the server keeps it for her.
    kill -STOP "$bob_pid"
    expect_exit 0 "canto-send over STARTTLS" "$send" "${alice[@]}" bob@localhost "$text1"
    expect_exit 0 "canto-send over Direct TLS" "$send" --direct-tls --jid alice@localhost \
        --password-file "$tmp/alice.password" --ca-file "$ca" \
        --server "127.0.0.1:$CANTO_PROSODY_DIRECT_TLS_PORT" bob@localhost "$text2"
    got=0
    printf '%s\n' "$text3" | "${wrap[@]}" "$send" "${alice[@]}" bob@localhost >/dev/null \
        2>"$tmp/last.err" || got=$?
    if ((got == 0)); then ok "canto-send reading standard input: exit 0"; else fail "canto-send reading standard input: exit $got"; fi
    kill -CONT "$bob_pid"

    for t in "$text1" "$text2" "$text3"; do
        wait_for "$tmp/echo-bob.out" "$tab$t" "$bob_pid" || true
    done
    # Bob answers each message before the next: a duplicate would be in by
    # the time his echo of a last marker message is back.
    marker="marker from alice"
    expect_exit 0 "canto-send a marker" "$send" "${alice[@]}" bob@localhost "$marker"
    wait_for "$tmp/echo-bob.out" "$tab$marker" "$bob_pid" || true
    for t in "$text1" "$text2" "$text3"; do
        check_line "$tmp/echo-bob.out" alice@localhost/ "$t" "canto-echo as bob printed"
    done
    stop_echo bob "$bob_pid"

    # Alice comes online and gets bob's echoes.
    if start_echo alice "${alice[@]}"; then
        alice_pid=$echo_pid
        # The server hands her what it kept as soon as she is online; a
        # marker from bob sent after that comes in last.
        expect_exit 0 "canto-send a marker to alice" "$send" "${bob[@]}" alice@localhost "$marker"
        wait_for "$tmp/echo-alice.out" "$tab$marker" "$alice_pid" || true
        for t in "$text1" "$text2" "$text3"; do
            check_line "$tmp/echo-alice.out" "$bob_jid" "$t" "alice received the echo"
        done
        stop_echo alice "$alice_pid"
    fi
fi

# ------------------------------------------------------------------------
# SRV through dnsmasq, under strace

dns_port=$(bash "$servers/dnsmasq.sh" start "$tmp/dns" \
    "--srv-host=_xmpp-client._tcp.localhost,xmpp.test,$CANTO_PROSODY_STARTTLS_PORT,10,0" \
    --host-record=xmpp.test,127.0.0.1) || {
    fail "dnsmasq.sh start"
    exit 1
}
expect_exit 2 "canto-send, domain not in DNS" "$send" --jid alice@nosuch.test \
    --password-file "$tmp/alice.password" --resolver "127.0.0.1:$dns_port" bob@localhost hi

got=0
# LeakSanitizer cannot work under ptrace: off for this run of an ASan build.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -qq -e trace=connect,openat,socket -o "$tmp/strace.txt" \
    "$send" --jid alice@localhost --password-file "$tmp/alice.password" --ca-file "$ca" \
    --resolver "127.0.0.1:$dns_port" bob@localhost "via SRV" </dev/null >/dev/null \
    2>"$tmp/last.err" || got=$?
if ((got == 0)); then
    ok "canto-send through SRV under strace: exit 0"
else
    fail "canto-send through SRV under strace: exit $got"
    sed 's/^/    /' "$tmp/last.err" >&2
fi

declare -A nonblock pids
dns_connects=0 xmpp_connects=0 strace_bad=0
while IFS= read -r line; do
    pid=${line%% *}
    pids[$pid]=1
    if [[ $line == *'"/etc/nsswitch.conf"'* ]]; then
        fail "strace: /etc/nsswitch.conf opened: $line"
        strace_bad=1
    fi
    if [[ $line =~ \ socket\(.*\)\ =\ ([0-9]+)$ ]]; then
        nonblock[$pid:${BASH_REMATCH[1]}]=0
        [[ $line == *SOCK_NONBLOCK* ]] && nonblock[$pid:${BASH_REMATCH[1]}]=1
    elif [[ $line =~ \ connect\(([0-9]+),.*_port=htons\(([0-9]+)\) ]]; then
        fd=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
        if [[ ${nonblock[$pid:$fd]:-0} != 1 ]]; then
            fail "strace: connect on a socket without SOCK_NONBLOCK: $line"
            strace_bad=1
        fi
        if ((port == 53)); then
            fail "strace: DNS to port 53 despite --resolver: $line"
            strace_bad=1
        fi
        ((port != dns_port)) || dns_connects=$((dns_connects + 1))
        ((port != CANTO_PROSODY_STARTTLS_PORT)) || xmpp_connects=$((xmpp_connects + 1))
    fi
done <"$tmp/strace.txt"
((${#pids[@]} == 1)) || {
    fail "strace: ${#pids[@]} threads or processes, expected 1"
    strace_bad=1
}
((dns_connects > 0)) || {
    fail "strace: no connect to dnsmasq (port $dns_port)"
    strace_bad=1
}
((xmpp_connects == 1)) || {
    fail "strace: $xmpp_connects connects to the SRV target's port, expected 1"
    strace_bad=1
}
if ((strace_bad == 0)); then
    ok "strace: no nsswitch.conf, no port 53, $dns_connects non-blocking DNS sockets, non-blocking connect to port $CANTO_PROSODY_STARTTLS_PORT, one thread"
fi

echo "$failures failure(s)"
((failures == 0))
