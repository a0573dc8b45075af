#!/usr/bin/env bash
# The image's entrypoint and daemon-log follower in a simulated pod directory: the init
# container prepares the installation from a directory or a zip (and says why when it
# cannot); the main container becomes the agent and ends non-zero when the agent dies;
# ttdaemonlog copies the daemon log to its output and stops on SIGTERM.
set -u
. "${top_srcdir:?}/t/lib/tap.sh"

starthost="$top_srcdir/ttimage/starthost"
daemonlog="$top_srcdir/ttimage/ttdaemonlog"
agent="${top_builddir:?}/src/agent/ttagent"
work=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

root="$work/pod"
mkdir -p "$root" "$work/dist/bin"
printf '#!/bin/sh\necho fake\n' >"$work/dist/bin/ttInstanceCreate"
chmod +x "$work/dist/bin/ttInstanceCreate"
home=/tt/home/timesten/instances/instance1

out=$(POD_ROOT="$root" TT_INIT_CONTAINER=1 TT_DISTRIBUTION="$work/nowhere" "$starthost" 2>&1)
is "$?" 1 "init: no distribution exits 1"
like "$out" "no TimesTen distribution at $work/nowhere" "saying where it looked"

out=$(POD_ROOT="$root" TT_INIT_CONTAINER=1 TT_DISTRIBUTION="$work/dist" "$starthost" 2>&1)
is "$?" 0 "init: an unpacked distribution is linked"
is "$(readlink "$root/tt/home/timesten/installation")" "$work/dist" \
	"as /tt/home/timesten/installation"
ok "$([ -d "$root/tt/home/timesten/instances" ] && [ -d "$root/tt/home/timesten/datastore" ]; echo $?)" \
	"the instance and database directories exist"
out=$(POD_ROOT="$root" TT_INIT_CONTAINER=1 TT_DISTRIBUTION="$work/dist" "$starthost" 2>&1)
like "$out" "is ready" "init again: the installation is kept"

if command -v unzip >/dev/null && command -v python3 >/dev/null; then
	root2="$work/pod2"
	mkdir -p "$root2"
	/usr/bin/python3 - "$work/tt.zip" "$work/dist/bin/ttInstanceCreate" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    info = zipfile.ZipInfo("tt22.1.1.31.0/bin/ttInstanceCreate")
    info.external_attr = 0o755 << 16
    z.writestr(info, open(sys.argv[2]).read())
PY
	out=$(POD_ROOT="$root2" TT_INIT_CONTAINER=1 TT_DISTRIBUTION="$work/tt.zip" "$starthost" 2>&1)
	is "$?" 0 "init: a distribution zip is unpacked"
	ok "$([ -x "$root2/tt/home/timesten/installation/bin/ttInstanceCreate" ]; echo $?)" \
		"its tt<release> directory becomes the installation"
	printf 'not a zip' >"$work/bad.zip"
	out=$(POD_ROOT="$work/pod3" TT_INIT_CONTAINER=1 TT_DISTRIBUTION="$work/bad.zip" "$starthost" 2>&1)
	is "$?" 1 "init: a broken zip exits 1"
else
	skip "unzip is not installed"; skip "unzip is not installed"; skip "unzip is not installed"
fi

# Main mode: the agent, whose failure is the container's.
mkdir -p "$root/tmp"
out=$(POD_ROOT="$root" TTAGENT="$work/none" "$starthost" 2>&1)
is "$?" 1 "main: no agent exits 1"
out=$(POD_ROOT="$root" TTAGENT="$agent" POD_IP=127.0.0.1 "$starthost" --listen 127.0.0.1:0 2>&1)
rc=$?
ok "$([ "$rc" -ne 0 ]; echo $?)" "main: an agent that cannot start ends the container non-zero"
like "$out" "cannot read /ttagent/ca.crt" "the agent says why"
out=$(POD_ROOT="$root" TTAGENT="$agent" "$starthost" --version 2>&1)
like "$out" "^ttagent \(ttclassic\)" "main: the container runs the agent with its arguments"

# The daemon-log follower.
mkdir -p "$root$home/diag"
POD_ROOT="$root" TIMESTEN_HOME=$home "$daemonlog" >"$work/dl.out" 2>&1 &
dl=$!
pids="$pids $dl"
echo "first line" >>"$root$home/diag/ttmesg.log"
wait_for 10 grep -q "first line" "$work/dl.out"; ok $? "ttdaemonlog copies the daemon log"
echo "second line" >>"$root$home/diag/ttmesg.log"
wait_for 10 grep -q "second line" "$work/dl.out"; ok $? "and follows it"
mv "$root$home/diag/ttmesg.log" "$root$home/diag/ttmesg.log.1"
echo "after rotation" >>"$root$home/diag/ttmesg.log"
wait_for 20 grep -q "after rotation" "$work/dl.out"; ok $? "across a rotation"
kill -TERM "$dl"
wait_for 5 sh -c "! kill -0 $dl 2>/dev/null"; ok $? "it stops on SIGTERM"
wait "$dl"; is "$?" 0 "with exit status 0"

done_testing
