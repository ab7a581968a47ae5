#!/usr/bin/env bash
# A throwaway dnsmasq for the tests: loopback only, no upstream servers, no
# /etc/hosts, no config file, authoritative for *.test (unknown names there get
# NXDOMAIN instead of being forwarded anywhere).
#
#   dnsmasq.sh start DIR [dnsmasq options...]
#       Starts dnsmasq on 127.0.0.1 on a free high UDP+TCP port, with the extra
#       options (records: --srv-host=..., --host-record=...). Writes DIR/port,
#       DIR/pid and logs queries to DIR/dnsmasq.log; prints the port. Returns
#       once dnsmasq answers on the port. Exit 77 if dnsmasq is not installed
#       (meson's "skip"), 1 on any other failure.
#   dnsmasq.sh stop DIR
#       Stops the dnsmasq started for DIR (by its PID) and waits for it.
#
# With CANTO_TEST_OWNER_PID set, a watchdog stops dnsmasq once that process is
# gone, so a crashed test does not leave a daemon behind.
set -euo pipefail

find_dnsmasq() {
    # CANTO_DNSMASQ names the binary (tests of the skip path point it nowhere).
    if [[ -n ${CANTO_DNSMASQ:-} ]]; then
        [[ -x $CANTO_DNSMASQ ]] && echo "$CANTO_DNSMASQ"
        return
    fi
    command -v dnsmasq 2>/dev/null && return
    for p in /usr/sbin/dnsmasq /sbin/dnsmasq; do
        [[ -x $p ]] && { echo "$p"; return; }
    done
    return 1
}

start() {
    local dir=$1
    shift
    local bin
    bin=$(find_dnsmasq) || { echo "dnsmasq not installed" >&2; exit 77; }
    mkdir -p "$dir"
    # As root dnsmasq would switch to "nobody", looking the user up through
    # NSS; empty names make it stay as it is (and keep DIR writable).
    local user=()
    [[ $(id -u) == 0 ]] && user=(--user= --group=)
    local try port
    for try in $(seq 1 30); do
        port=$((20000 + RANDOM % 40000))
        rm -f "$dir/pid"
        # Without --keep-in-foreground dnsmasq reports start-up errors (port
        # taken) through its exit status and only returns once it serves.
        if "$bin" --no-resolv --no-hosts --no-poll --conf-file=/dev/null \
            --bind-interfaces --listen-address=127.0.0.1 --port="$port" \
            --local=/test/ --cache-size=0 --pid-file="$dir/pid" \
            --log-queries --log-facility="$dir/dnsmasq.log" "${user[@]}" "$@" \
            </dev/null >/dev/null 2>>"$dir/dnsmasq.err"; then
            # The daemon writes its pid file just after the parent returns.
            for _ in $(seq 1 50); do
                [[ -s $dir/pid ]] && break
                sleep 0.1
            done
            [[ -s $dir/pid ]] || { echo "dnsmasq wrote no pid file" >&2; exit 1; }
            echo "$port" >"$dir/port"
            if [[ -n ${CANTO_TEST_OWNER_PID:-} ]]; then
                local owner=$CANTO_TEST_OWNER_PID daemon
                daemon=$(cat "$dir/pid")
                (
                    while kill -0 "$owner" 2>/dev/null && kill -0 "$daemon" 2>/dev/null; do
                        sleep 1
                    done
                    kill "$daemon" 2>/dev/null || true
                ) </dev/null >/dev/null 2>&1 &
            fi
            echo "$port"
            return 0
        fi
        grep -q "in use" "$dir/dnsmasq.err" 2>/dev/null || {
            cat "$dir/dnsmasq.err" >&2
            exit 1
        }
    done
    echo "no free port for dnsmasq" >&2
    exit 1
}

stop() {
    local dir=$1 pid
    [[ -s $dir/pid ]] || return 0
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case ${1:-} in
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
*) echo "usage: $0 start DIR [dnsmasq options...] | stop DIR" >&2; exit 2 ;;
esac
