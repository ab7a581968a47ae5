#!/usr/bin/env bash
# Run one program inside a fresh network namespace of its own (one end of a
# veth pair with link-local addresses only, from tests/servers/netns.sh), for
# tests that need a multicast-capable interface but no second host. Exits 77
# (skip) where namespaces cannot be made, unless CANTO_REQUIRE_NETNS=1.
# CANTO_TOOLS_WRAPPER (valgrind in CI) goes in front of the program.
#
# usage: run_in_netns.sh SERVERS_DIR PROGRAM [ARGS...]
set -uo pipefail

SERVERS=${1:?usage: run_in_netns.sh SERVERS_DIR PROGRAM [ARGS...]}
shift
NETNS=$SERVERS/netns.sh
"$NETNS" check || exit $?
A=crun-a-$$
B=crun-b-$$
"$NETNS" up "$A" "$B" || exit 1
trap '"$NETNS" down "$A" "$B"' EXIT
# shellcheck disable=SC2086
"$NETNS" exec "$A" ${CANTO_TOOLS_WRAPPER:-} "$@"
