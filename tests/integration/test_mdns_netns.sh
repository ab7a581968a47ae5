#!/usr/bin/env bash
# Canto's mDNS (socket driver + engine, through mdns_tool) between two network
# namespaces joined by a veth pair (tests/servers/netns.sh), against itself
# and against python-zeroconf (tests/servers/zeroconf_peer.py):
#   a  Canto publishes in A, Canto browses in B: sees it with its TXT
#   b  zeroconf registers in A, Canto browses in B
#   c  Canto publishes in A, zeroconf browses in B
#   d  zeroconf holds NAME in B; Canto publishing NAME in A renames to NAME-2
#   e  goodbye: a Canto publisher that quits is gone at once for both
#      browsers; one killed with SIGKILL is gone after its (short) TTL
# Needs root and iproute2: exits 77 (skip) without them, or without
# python3-zeroconf, unless CANTO_REQUIRE_NETNS=1 (then it fails instead).
#
# usage: test_mdns_netns.sh MDNS_TOOL SERVERS_DIR
set -uo pipefail

TOOL=${1:?usage: test_mdns_netns.sh MDNS_TOOL SERVERS_DIR}
SERVERS=${2:?usage: test_mdns_netns.sh MDNS_TOOL SERVERS_DIR}
NETNS=$SERVERS/netns.sh
PEER=$SERVERS/zeroconf_peer.py

"$NETNS" check || exit $?

# Debian's python3-zeroconf lives under /usr/bin/python3, which a python3
# earlier in PATH (pyenv, venv) may not see.
PY=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import zeroconf' 2>/dev/null; then
        PY=$(command -v "$p")
        break
    fi
done
if [[ -z $PY ]]; then
    if [[ ${CANTO_REQUIRE_NETNS:-0} == 1 ]]; then
        echo "python3-zeroconf is not installed, and CANTO_REQUIRE_NETNS=1" >&2
        exit 1
    fi
    echo "python3-zeroconf is not installed: skipping" >&2
    exit 77
fi

TAG=cmdns # used by the harness
export TAG
# shellcheck source=netns_harness.sh
. "$(dirname "$0")/netns_harness.sh"

echo "== namespaces $A and $B"
spawn canto_browse "$B" "$TOOL" --host canto-b browse _presence._tcp
spawn zc_browse "$B" "$PY" "$PEER" browse

echo "== a: Canto publishes in A, Canto browses in B"
spawn alice "$A" "$TOOL" --host canto-a publish alice@canto-a 5562 \
    txtvers=1 1st=Alice port.p2pj=5562 status=avail
expect alice '^published alice@canto-a$' 15
expect canto_browse '^\+ alice@canto-a txtvers=1 1st=Alice port.p2pj=5562 status=avail$' 15

echo "== b: zeroconf registers in A, Canto browses in B"
spawn bob "$A" "$PY" "$PEER" register --host zc-a bob@zc-a 5563 \
    txtvers=1 1st=Bob port.p2pj=5563 status=dnd
expect bob '^registered bob@zc-a$' 15
expect canto_browse '^\+ bob@zc-a txtvers=1 1st=Bob port.p2pj=5563 status=dnd$' 15

echo "== c: Canto publishes in A, zeroconf browses in B"
expect zc_browse '^\+ alice@canto-a txtvers=1 1st=Alice port.p2pj=5562 status=avail$' 15

echo "== d: zeroconf holds a name in B, Canto publishes the same name in A"
spawn dave_zc "$B" "$PY" "$PEER" register --host zc-b dave@shared 5564 txtvers=1 1st=Dave
expect dave_zc '^registered dave@shared$' 15
spawn dave "$A" "$TOOL" --host canto-a2 publish dave@shared 5565 txtvers=1 1st=Canto-Dave
expect dave '^renamed dave@shared-2$' 15
expect dave '^published dave@shared-2$' 15
expect canto_browse '^\+ dave@shared-2 txtvers=1 1st=Canto-Dave$' 15
expect zc_browse '^\+ dave@shared-2 txtvers=1 1st=Canto-Dave$' 15
if grep -q '^published dave@shared$' "$TMP/dave.out"; then
    fail "Canto published dave@shared although zeroconf holds it"
fi

echo "== e: goodbye on a clean exit"
stop alice TERM
expect alice '^stopped$' 1
expect canto_browse '^- alice@canto-a$' 5
expect zc_browse '^- alice@canto-a$' 5

echo "== e: a publisher killed with SIGKILL is gone after its TTL (3 s)"
spawn eve "$A" "$TOOL" --host canto-e --ttl 3 publish eve@canto-e 5566 txtvers=1 1st=Eve
expect eve '^published eve@canto-e$' 15
expect canto_browse '^\+ eve@canto-e txtvers=1 1st=Eve$' 15
killed_at=$(date +%s%N)
stop eve KILL
if expect canto_browse '^- eve@canto-e$' 20; then
    echo "   (gone $((($(date +%s%N) - killed_at) / 1000000)) ms after SIGKILL)"
fi

echo "== others still there, and no stray events"
for n in bob dave_zc dave canto_browse zc_browse; do
    if ! kill -0 "${PID[$n]}" 2>/dev/null; then
        fail "$n exited early"
        show "$n"
    fi
done
if grep -qE '^- (bob@zc-a|dave@shared-2)$' "$TMP/canto_browse.out"; then
    fail "the Canto browser lost a live service"
    show canto_browse
fi

stop dave TERM
stop bob TERM
stop dave_zc TERM
stop canto_browse TERM
stop zc_browse TERM

if ((FAILED)); then
    echo "$FAILED check(s) failed"
    exit 1
fi
echo "all mDNS checks passed"
