#!/bin/sh
# screenshots.sh: PNG screenshots of the console from a real run against a private sandbox.
#
#   sh tests/tools/screenshots.sh OUTDIR      (CLEANOPS and ANSI2PNG name the binaries)
#
# Starts a sandbox on a free port with a temporary XDG_STATE_HOME, opens the console in a
# detached 100x30 tmux session, walks the wizard (settings, the IAM step with its policy),
# deploys, sends a burst and captures the dashboard while it runs, then cleans up. Each
# capture is `tmux capture-pane -e -p` (text with colour escapes) turned into a PNG by
# tests/tools/ansi2png.c. Writes OUTDIR/{wizard,deploy,dashboard,cleanup}.png.
# Exit 0 done, 77 when tmux is missing, 1 on failure (the screen at that moment is printed).
set -u

OUT=${1:-screenshots}
CLEANOPS=${CLEANOPS:-./cleanops}
ANSI2PNG=${ANSI2PNG:-build/tools/ansi2png}

if ! command -v tmux >/dev/null 2>&1; then
	echo "SKIP: tmux not installed"
	exit 77
fi
for b in "$CLEANOPS" "$ANSI2PNG"; do
	if [ ! -x "$b" ]; then
		echo "screenshots: $b is not built" >&2
		exit 1
	fi
done
mkdir -p "$OUT" || exit 1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/screenshots.XXXXXX") || exit 1
SOCK="$TMP/tmux.sock"
export XDG_STATE_HOME="$TMP/state"
cleanup() {
	tmux -S "$SOCK" kill-server 2>/dev/null
	"$CLEANOPS" sandbox stop >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null)
[ -n "$PORT" ] || PORT=$((20000 + $$ % 20000))
if ! "$CLEANOPS" sandbox start --port "$PORT" >"$TMP/start.out" 2>&1; then
	cat "$TMP/start.out" >&2
	echo "screenshots: the sandbox did not start" >&2
	exit 1
fi

T() { tmux -S "$SOCK" "$@"; }
screen() { T capture-pane -p -t console; }
keys() { T send-keys -t console "$@"; }
# wait_for PATTERN SECONDS: poll the screen until PATTERN (grep -E) shows up, else fail.
wait_for() {
	deadline=$(( $(date +%s) + $2 ))
	while [ "$(date +%s)" -le "$deadline" ]; do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.2
	done
	echo "screenshots: gave up waiting for /$1/; the screen:" >&2
	screen >&2
	exit 1
}
# shot NAME: the pane as it is now, to OUT/NAME.png.
shot() {
	T capture-pane -e -p -t console >"$TMP/$1.txt" &&
		"$ANSI2PNG" --cols 100 --rows 30 -o "$OUT/$1.png" "$TMP/$1.txt" || exit 1
	echo "screenshots: $OUT/$1.png"
}

# No AWS credentials in the console's environment: it opens on the sandbox.
T new-session -d -s console -x 100 -y 30 \
	"env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
	 HOME='$TMP' LANG=C.UTF-8 TERM=xterm-256color '$CLEANOPS'; sleep 600"
T set-option -t console window-size manual >/dev/null 2>&1
wait_for 'account: 000000000000' 20
wait_for '\[wizard\]' 10

# The wizard: the settings, then the IAM step with its rendered policy.
keys Enter
keys -l 'ops@example.com'
keys Enter
keys n
wait_for '"Version"' 10
shot wizard

# Deploy with live progress per resource; the capture shows the end state.
keys g
wait_for 'deploy complete|deploy failed' 300
screen | grep -q 'deploy complete' || { screen >&2; exit 1; }
shot deploy

# The dashboard during a burst: 300 orders at 25/s.
keys d
wait_for '\[dashboard\]' 5
keys b
wait_for 'Burst of orders' 5
keys BSpace BSpace BSpace BSpace BSpace
keys -l '300'
keys Tab BSpace BSpace BSpace BSpace BSpace
keys -l '25'
keys Enter Enter
keys Escape
wait_for 'items [1-9][0-9]' 60
sleep 3
shot dashboard
wait_for 'burst: [0-9]+ sent' 180

# Cleanup: confirm with the stack name; the check that nothing is left.
keys C
wait_for 'Cleanup: delete the stack' 5
keys -l 'POC'
keys Enter
wait_for 'cleanup complete|cleanup failed' 300
shot cleanup
keys Escape
keys q
exit 0
