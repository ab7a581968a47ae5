#!/usr/bin/env bash
# Serverless chat (XEP-0174) end to end: two canto-linklocal peers in two
# network namespaces joined by a veth pair (tests/servers/netns.sh, link-local
# addresses only). Both namespaces share the machine's host name, so one of
# the two must also rename its mDNS host name. Checked:
#   1  each sees the other appear, with nick and status
#   2  messages go both ways (a stream each way, or one stream both ways)
#   3  a status change is seen
#   4  a peer that quits is gone at once (goodbye)
#   5  a peer killed with SIGKILL is gone once its records expire
#   6  a message to a peer that is not there is refused with a reason
#   7  TLS: a peer that requires it refuses plaintext (the sender is told);
#      one with TLS optional talks to it over TLS 1.3
#   8  python-zeroconf (an independent mDNS stack) sees alice's XEP-0174 TXT
#      record, and alice sees a service zeroconf registers, status included
# Needs root and iproute2: exits 77 (skip) without them unless
# CANTO_REQUIRE_NETNS=1 (then it fails).
#
# usage: test_linklocal_netns.sh CANTO_LINKLOCAL SERVERS_DIR
set -uo pipefail

LL=${1:?usage: test_linklocal_netns.sh CANTO_LINKLOCAL SERVERS_DIR}
SERVERS=${2:?usage: test_linklocal_netns.sh CANTO_LINKLOCAL SERVERS_DIR}
NETNS=$SERVERS/netns.sh
# Under valgrind in CI (CANTO_TOOLS_WRAPPER), like the other tool tests.
WRAP=${CANTO_TOOLS_WRAPPER:-}

"$NETNS" check || exit $?

H=$(hostname)
H=${H%%.*}
TAG=cll # used by the harness
export TAG
# shellcheck source=netns_harness.sh
. "$(dirname "$0")/netns_harness.sh"

# peer NAME NAMESPACE ARGS...: canto-linklocal in the background, reading
# commands that `say NAME LINE` writes into its FIFO.
peer() {
    local name=$1 ns=$2 fd
    shift 2
    mkfifo "$TMP/$name.in"
    # shellcheck disable=SC2086
    spawn "$name" "$ns" $WRAP "$LL" "$@"
    exec {fd}>"$TMP/$name.in"
    IN["$name"]=$fd
}

say() {
    printf '%s\n' "$2" >&"${IN[$1]}"
}

# quit NAME: end its input, as a user would; it must exit 0.
quit() {
    local name=$1 rc=0 fd=${IN[$1]}
    exec {fd}>&-
    unset "IN[$name]"
    wait "${PID[$name]}" 2>/dev/null || rc=$?
    unset "PID[$name]"
    ((rc == 0)) || fail "$name exited with status $rc"
}

echo "== 1: alice in $A and bob in $B find each other"
peer alice "$A" --name alice --nick Alice -v
peer bob "$B" --name bob --nick Bob --ttl 3 -v
expect_line alice "+ bob@$H Bob avail" 20
expect_line bob "+ alice@$H Alice avail" 20

echo "== 2: messages both ways"
say alice "bob@$H: hello bob"
expect_line bob "alice@$H	hello bob" 10
say bob "alice@$H: hi alice, got it"
expect_line alice "bob@$H	hi alice, got it" 10
say alice "bob@$H: second message"
expect_line bob "alice@$H	second message" 10

echo "== 3: bob changes status"
say bob "/status away gone fishing"
expect_line alice "+ bob@$H Bob away" 10

echo "== 4: bob quits cleanly: alice sees the goodbye at once"
quit bob
expect_line alice "- bob@$H" 5

echo "== 6: a message to bob now is refused"
say alice "bob@$H: are you there?"
t=0
until grep -q "could not send to bob@$H" "$TMP/alice.err" || ((t > 50)); do
    sleep 0.1
    t=$((t + 1))
done
grep -q "could not send to bob@$H" "$TMP/alice.err" && echo "ok: refused" ||
    fail "alice did not refuse a message to a peer that left"

echo "== 5: carol (TTL 3 s) killed with SIGKILL: gone after expiry"
peer carol "$B" --name carol --ttl 3
expect_line alice "+ carol@$H - avail" 20
expect_line carol "+ alice@$H Alice avail" 20
say carol "alice@$H: before I vanish"
expect_line alice "carol@$H	before I vanish" 10
stop carol KILL
expect_line alice "- carol@$H" 20

echo "== 7: dave requires TLS; alice (plaintext) cannot reach him, erin (optional) can"
CERTS=$TMP/certs
if bash "$SERVERS/certs.sh" "$CERTS" >/dev/null; then
    peer dave "$B" --name dave --tls required --cert "$CERTS/localhost.pem" \
        --key "$CERTS/localhost.key" -v
    peer erin "$A" --name erin --tls optional --cert "$CERTS/wrong.pem" \
        --key "$CERTS/wrong.key" -v
    expect_line alice "+ dave@$H - avail" 20
    expect_line erin "+ dave@$H - avail" 20
    say alice "dave@$H: in the clear"
    t=0
    until grep -q "message to dave@$H not delivered" "$TMP/alice.err" || ((t > 100)); do
        sleep 0.1
        t=$((t + 1))
    done
    grep -q "message to dave@$H not delivered" "$TMP/alice.err" &&
        echo "ok: alice was told her plaintext message did not get through" ||
        fail "alice was not told that dave refused plaintext"
    if grep -qF "alice@$H	in the clear" "$TMP/dave.out"; then
        fail "dave accepted a plaintext message although he requires TLS"
    fi
    say erin "dave@$H: under cover"
    expect_line dave "erin@$H	under cover" 10
    say dave "erin@$H: received, encrypted"
    expect_line erin "dave@$H	received, encrypted" 10
    grep -q "TLS 1\.[23] established" "$TMP/erin.err" && echo "ok: erin's stream is encrypted" ||
        fail "erin's stream with dave was not encrypted"
    quit dave
    quit erin
else
    fail "could not make certificates (certtool from gnutls-bin)"
fi

echo "== 8: interop with python-zeroconf"
ZC=
if /usr/bin/python3 -c 'import zeroconf' 2>/dev/null; then
    ZC=/usr/bin/python3
elif [[ ${CANTO_REQUIRE_NETNS:-0} == 1 ]]; then
    fail "python3-zeroconf is not installed"
fi
if [[ -n $ZC ]]; then
    spawn zc_browse "$B" "$ZC" "$SERVERS/zeroconf_peer.py" browse
    spawn zc_zed "$B" "$ZC" "$SERVERS/zeroconf_peer.py" register --host zc-host \
        zed@zc-host 5299 txtvers=1 nick=Zed status=dnd "msg=out to lunch"
    expect_line zc_browse "+ alice@$H txtvers=1 nick=Alice status=avail" 20
    expect_line alice "+ zed@zc-host Zed dnd" 20
    # Only once it is done registering does zeroconf say goodbye on SIGTERM.
    expect_line zc_zed "registered zed@zc-host" 20
    stop zc_zed TERM
    expect_line alice "- zed@zc-host" 10
    stop zc_browse TERM
fi

echo "== alice is still fine"
if ! kill -0 "${PID[alice]}" 2>/dev/null; then
    fail "alice exited early"
    show alice
fi
quit alice
if grep -q "AddressSanitizer\|runtime error\|definitely lost" "$TMP"/*.err; then
    fail "errors in the logs"
    grep -n "ERROR\|AddressSanitizer\|runtime error" "$TMP"/*.err | head -20
fi

if ((FAILED)); then
    echo "$FAILED check(s) failed"
    exit 1
fi
echo "all link-local checks passed"
