#!/bin/sh
# console_idle.sh: the console's idle CPU and resident memory on a deployed sandbox stack,
# beside htop's figures measured the same way (when htop is installed).
#
# Opens `cleanops` on the dashboard in a detached tmux session (private socket, private
# sandbox on a free port), lets it settle, then samples utime+stime from /proc for 10 s
# and VmRSS. Exit 0 with the figures printed; 77 when tmux is missing.
set -u
CLEANOPS=${CLEANOPS:-${ROOT:-.}/cleanops}
command -v tmux >/dev/null 2>&1 || { echo "SKIP: tmux not installed"; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/console_idle.XXXXXX") || exit 1
SOCK="$TMP/tmux.sock"
export XDG_STATE_HOME="$TMP/state"
cleanup() {
	tmux -S "$SOCK" kill-server 2>/dev/null
	"$CLEANOPS" sandbox stop >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CLEANOPS" sandbox start --port "$PORT" >/dev/null || exit 1
"$CLEANOPS" deploy --target sandbox --yes --email ops@example.com >/dev/null 2>&1 || echo "(deploy failed: measuring the wizard)"

# measure NAME PID: CPU% over 10 s and RSS of process PID
measure() {
	hz=$(getconf CLK_TCK)
	a=$(awk '{print $14 + $15}' "/proc/$2/stat")
	sleep 10
	b=$(awk '{print $14 + $15}' "/proc/$2/stat")
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$2/status")
	awk -v n="$1" -v t=$((b - a)) -v hz="$hz" -v rss="$rss" \
		'BEGIN { printf "%-10s idle CPU %.2f%%  RSS %.1f MiB\n", n, t * 100 / hz / 10, rss / 1024 }'
}

tmux -S "$SOCK" new-session -d -s c -x 100 -y 30 "exec '$CLEANOPS' --target sandbox"
sleep 5
PID=$(tmux -S "$SOCK" list-panes -t c -F '#{pane_pid}')
measure cleanops "$PID"
if command -v htop >/dev/null 2>&1; then
	tmux -S "$SOCK" new-session -d -s h -x 100 -y 30 "exec htop"
	sleep 2
	measure htop "$(tmux -S "$SOCK" list-panes -t h -F '#{pane_pid}')"
fi
exit 0
