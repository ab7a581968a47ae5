# Shared by the tests that run programs in two network namespaces
# (test_mdns_netns.sh, test_linklocal_netns.sh); source it after setting
# NETNS (path of tests/servers/netns.sh) and TAG (a short name for the run).
# It makes namespaces $A and $B joined by a veth pair and a scratch folder
# $TMP, and removes all three, with every program it started, on exit.
#
#   spawn NAME NS CMD...      run CMD in NS in the background: stdout in
#                             $TMP/NAME.out, stderr in $TMP/NAME.err, stdin
#                             from $TMP/NAME.in when that FIFO exists
#   expect NAME REGEX SECS    wait for a stdout line matching REGEX (grep -E)
#   expect_line NAME LINE SECS  the same for exactly LINE
#   stop NAME [SIGNAL]        signal it (default TERM) and wait; after TERM
#                             it must exit 0 (a sanitizer report or a leak
#                             under valgrind makes it fail)
#   show NAME, fail MESSAGE   report; FAILED counts failures
# shellcheck shell=bash

A=$TAG-a-$$
B=$TAG-b-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/canto-$TAG.XXXXXX")
declare -A PID IN
FAILED=0

netns_cleanup() {
    local name
    for name in "${!PID[@]}"; do
        kill -9 "${PID[$name]}" 2>/dev/null
    done
    wait 2>/dev/null
    "$NETNS" down "$A" "$B"
    rm -rf "$TMP"
}
trap netns_cleanup EXIT

"$NETNS" up "$A" "$B" || exit 1

spawn() {
    local name=$1 ns=$2
    shift 2
    local in=/dev/null
    [[ -p $TMP/$name.in ]] && in=$TMP/$name.in
    # Other programs' FIFO write ends stay out of this one, or closing them
    # would not end their input. exec keeps $! the program's own PID
    # (netns.sh and `ip netns exec` exec too).
    (
        for f in "${IN[@]}"; do
            exec {f}>&-
        done
        exec "$NETNS" exec "$ns" "$@" <"$in" >"$TMP/$name.out" 2>"$TMP/$name.err"
    ) &
    PID[$name]=$!
}

show() {
    echo "--- $1 stdout:"
    cat "$TMP/$1.out"
    echo "--- $1 stderr (last 40 lines):"
    tail -n 40 "$TMP/$1.err"
}

fail() {
    echo "FAIL: $*"
    FAILED=$((FAILED + 1))
}

# wait_for NAME GREP-ARGS SECS DESCRIPTION
wait_for() {
    local name=$1 mode=$2 pattern=$3 secs=$4 t=0
    while ((t < secs * 10)); do
        if grep -q "$mode" -- "$pattern" "$TMP/$name.out"; then
            echo "ok: $name: $(grep "$mode" -- "$pattern" "$TMP/$name.out" | head -n 1)"
            return 0
        fi
        sleep 0.1
        t=$((t + 1))
    done
    fail "$name printed no line matching '$pattern' within ${secs}s"
    show "$name"
    return 1
}

expect() {
    wait_for "$1" -E "$2" "$3"
}

expect_line() {
    wait_for "$1" -xF "$2" "$3"
}

stop() {
    local name=$1 sig=${2:-TERM} rc=0
    kill "-$sig" "${PID[$name]}" 2>/dev/null
    wait "${PID[$name]}" 2>/dev/null || rc=$?
    unset "PID[$name]"
    if [[ $sig == TERM ]] && ((rc != 0)); then
        fail "$name exited with status $rc after SIGTERM"
        show "$name"
    fi
}
