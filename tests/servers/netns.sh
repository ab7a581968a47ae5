#!/usr/bin/env bash
# Two network namespaces joined by a veth pair, for the mDNS tests: multicast
# between two "hosts" without touching the machine's own interfaces.
#
#   netns.sh up NAME_A NAME_B     create both, link them, bring them up
#   netns.sh down NAME_A NAME_B   delete both (and with them the veth pair)
#   netns.sh exec NAME CMD...     run CMD inside NAME
#   netns.sh check                exit 0 if namespaces can be made here, 77 if
#                                 not (not root, no ip), 1 with
#                                 CANTO_REQUIRE_NETNS=1 set instead of 77
#
# Inside each namespace the veth end is called "cv0" and only gets link-local
# addresses: 169.254.77.1/16 + fe80::a/64 in NAME_A, 169.254.77.2/16 +
# fe80::b/64 in NAME_B, plus a 224.0.0.0/4 route so IPv4 multicast has a way
# out. The pair is created inside NAME_A with its peer moved straight into
# NAME_B, so no interface ever appears in the caller's namespace. Callers pick
# names unique to the run (include $$); `down` deletes only those names.
set -euo pipefail

IF=cv0

die() {
    printf 'netns.sh: %s\n' "$*" >&2
    exit 1
}

# Exit 77 (skip) or, when CI demands the test, 1.
unavailable() {
    if [[ ${CANTO_REQUIRE_NETNS:-0} == 1 ]]; then
        printf 'netns.sh: %s, and CANTO_REQUIRE_NETNS=1\n' "$*" >&2
        exit 1
    fi
    printf 'netns.sh: %s: skipping\n' "$*" >&2
    exit 77
}

check() {
    [[ $(id -u) == 0 ]] || unavailable "network namespaces need root"
    command -v ip >/dev/null || unavailable "ip (iproute2) is not installed"
    local probe="canto-probe-$$"
    ip netns add "$probe" 2>/dev/null || unavailable "ip netns add fails here (no CAP_SYS_ADMIN?)"
    ip netns del "$probe"
}

valid_name() {
    [[ $1 =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || die "bad namespace name '$1'"
}

setup_end() {
    local ns=$1 v4=$2 v6=$3
    ip -n "$ns" link set lo up
    # No kernel-made fe80:: address: it would need duplicate address
    # detection (seconds) before sockets could bind to it; ours skips DAD.
    ip -n "$ns" link set "$IF" addrgenmode none
    ip -n "$ns" link set "$IF" up
    ip -n "$ns" addr add "$v4/16" dev "$IF"
    ip -n "$ns" -6 addr add "$v6/64" dev "$IF" nodad
    ip -n "$ns" route add 224.0.0.0/4 dev "$IF"
}

up() {
    local a=$1 b=$2
    valid_name "$a"
    valid_name "$b"
    [[ $a != "$b" ]] || die "the two namespaces need different names"
    ip netns add "$a"
    if ! ip netns add "$b"; then
        ip netns del "$a"
        die "cannot create namespace $b"
    fi
    if ! {
        ip -n "$a" link add "$IF" type veth peer name "$IF" netns "$b" &&
            setup_end "$a" 169.254.77.1 fe80::a &&
            setup_end "$b" 169.254.77.2 fe80::b
    }; then
        ip netns del "$a" || true
        ip netns del "$b" || true
        die "cannot set up the veth pair between $a and $b"
    fi
}

down() {
    local ns rc=0
    for ns in "$@"; do
        valid_name "$ns"
        if [[ -e /run/netns/$ns ]]; then
            ip netns del "$ns" || rc=1
        fi
    done
    return $rc
}

cmd=${1:-}
shift || true
case $cmd in
up)
    (($# == 2)) || die "usage: netns.sh up NAME_A NAME_B"
    up "$@"
    ;;
down)
    (($# >= 1)) || die "usage: netns.sh down NAME..."
    down "$@"
    ;;
exec)
    (($# >= 2)) || die "usage: netns.sh exec NAME CMD..."
    valid_name "$1"
    ns=$1
    shift
    exec ip netns exec "$ns" "$@"
    ;;
check)
    check
    ;;
*)
    die "usage: netns.sh up|down|exec|check ..."
    ;;
esac
