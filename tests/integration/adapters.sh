#!/usr/bin/env bash
# The loop-adapter examples (examples/glib-echo.c on GLib, examples/uv-echo.c
# on libuv) against a real server. For each example:
#   1. it logs in to Prosody as bob (tests/servers/prosody.sh, 127.0.0.1);
#   2. canto-send, as alice, sends bob a chat message;
#   3. the example must print it as "FROM<TAB>BODY" on stdout and send the
#      echo without error (nothing on stderr but its "online" line);
#   4. SIGTERM: it must close the stream and exit 0 within 10 s.
#
# usage: adapters.sh PROSODY_SH CANTO_SEND [EXAMPLE...]
# Exit 0 all passed, 1 a failure (the server directory is kept for its logs),
# 77 Prosody is not installed or no example was built (GLib and libuv both
# missing).
set -euo pipefail

prosody_sh=${1:?usage: adapters.sh PROSODY_SH CANTO_SEND [EXAMPLE...]}
canto_send=${2:?usage: adapters.sh PROSODY_SH CANTO_SEND [EXAMPLE...]}
shift 2
if (($# == 0)); then
    echo "neither GLib nor libuv was found, so no adapter example was built: skipped"
    exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/canto-adapters.XXXXXX")
example_pid=
ok=0

cleanup() {
    # Only the example started here, by its PID, if it is still running.
    if [[ -n $example_pid ]] && kill -0 "$example_pid" 2>/dev/null; then
        kill -KILL "$example_pid" 2>/dev/null || true
        wait "$example_pid" 2>/dev/null || true
    fi
    bash "$prosody_sh" stop "$dir" || true
    if ((ok)); then
        rm -rf "$dir"
    else
        echo "logs kept in $dir" >&2
    fi
}

fail() {
    echo "FAIL: $*" >&2
    local f
    for f in "$dir"/*.out "$dir"/*.err; do
        [[ -s $f ]] || continue
        echo "--- $f" >&2
        tail -n 20 "$f" >&2
    done
    exit 1
}

rc=0
bash "$prosody_sh" start "$dir" || rc=$?
if ((rc == 77)); then
    rm -rf "$dir"
    echo "prosody not installed: skipped"
    exit 77
fi
trap cleanup EXIT
((rc == 0)) || fail "prosody.sh start failed ($rc)"

# KEY=VALUE lines without quotes or spaces (see prosody.sh).
# shellcheck disable=SC1091
source "$dir/env"
server=(--server "127.0.0.1:$CANTO_PROSODY_STARTTLS_PORT" --ca-file "$CANTO_PROSODY_CA")
# shellcheck disable=SC2154 # both come from the env file
bob_password=$CANTO_PROSODY_PASSWORD_bob alice_password=$CANTO_PROSODY_PASSWORD_alice

# wait_for FILE FIXED-STRING SECONDS: until a line of FILE contains the string,
# or fail if the example exits first or time runs out.
wait_for() {
    local file=$1 text=$2 i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qF -- "$text" "$file" 2>/dev/null && return 0
        kill -0 "$example_pid" 2>/dev/null || fail "$(basename "$file" | cut -d. -f1) exited while waiting for '$text' in $file"
        sleep 0.1
    done
    fail "no '$text' in $file after $3 s"
}

for example in "$@"; do
    name=$(basename "$example")
    out=$dir/$name.out
    err=$dir/$name.err
    echo "=== $name"

    CANTO_PASSWORD=$bob_password "$example" --jid "bob@localhost/$name" \
        "${server[@]}" >"$out" 2>"$err" &
    example_pid=$!
    wait_for "$err" "$name: online as bob@localhost/$name" 20

    body="hello $name $RANDOM$RANDOM"
    send_rc=0
    CANTO_PASSWORD=$alice_password "$canto_send" --jid alice@localhost/sender \
        "${server[@]}" bob@localhost "$body" >"$dir/send-$name.err" 2>&1 || send_rc=$?
    ((send_rc == 0)) || fail "canto-send exited $send_rc: $(cat "$dir/send-$name.err")"

    wait_for "$out" "$(printf 'alice@localhost/sender\t%s' "$body")" 10
    echo "$name printed: $(head -n 1 "$out")"

    kill -TERM "$example_pid"
    status=
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$example_pid" 2>/dev/null; then
            status=0
            wait "$example_pid" || status=$?
            break
        fi
        sleep 0.1
    done
    [[ -n $status ]] || fail "$name still running 10 s after SIGTERM"
    example_pid=
    ((status == 0)) || fail "$name exited $status after SIGTERM"
    # The echo was queued without error, and nothing else went wrong.
    if grep -v -F "$name: online as" "$err" | grep -q .; then
        fail "$name wrote to stderr: $(cat "$err")"
    fi
    [[ $(wc -l <"$out") -eq 1 ]] || fail "$name printed more than the one message: $(cat "$out")"
    echo "$name: ok (message printed, echo sent, exit 0 on SIGTERM)"
done
ok=1
