#!/usr/bin/env bash
# The operator's life as a user sees it: start, serve /metrics, reload a good and then a
# broken configuration on SIGHUP (keeping the good one), stop on SIGTERM with exit 0.
set -u
. "${top_srcdir:?}/t/lib/tap.sh"

op="${top_builddir:?}/src/operator/timestenclassic-operator"
agent="$top_builddir/src/agent/ttagent"
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

fetch() { # fetch [curl args...] URL: prints "CODE\nBODY"
	curl -s -m 5 -o "$work/body" -w '%{http_code}' "$@" && echo && cat "$work/body"
}
listen_addr() { # the address of the last "listening" log line
	grep 'msg=listening' "$work/log" | tail -n 1 | grep -o 'addr=[^ ]*' | cut -d= -f2
}
listening_count() { grep -c 'msg=listening' "$work/log"; }

# --help and --version, for both programs.
out=$("$op" --help); ok $? "operator --help exits 0"
like "$out" "--config FILE" "operator --help lists --config"
like "$out" "--metrics-addr" "operator --help lists --metrics-addr"
out=$("$op" --version); like "$out" "^timestenclassic-operator \(ttclassic\) [0-9]" "operator --version"
out=$("$agent" --help); ok $? "ttagent --help exits 0"
out=$("$agent" --version); like "$out" "^ttagent \(ttclassic\) [0-9]" "ttagent --version"
out=$("$op" --dump-fsm); ok $? "operator --dump-fsm exits 0"
like "$out" '^digraph "activeStandbyPair"' "--dump-fsm prints the pair machine as Graphviz"
like "$out" '"Normal" -> "ActiveDown"' "with its transitions"
# Each machine's drawing in docs/ (the topologies', the upgrade's) is its machine as built.
for t in activeStandbyPair:pair none:nonrep upgrade:upgrade; do
	name=${t%%:*} file=docs/${t#*:}-fsm.dot
	out=$("$op" --dump-fsm="$name")
	if diff -u "$top_srcdir/$file" <(printf '%s\n' "$out") >"$work/fsm.diff"; then
		ok 0 "$file is the $name machine as built"
	else
		ok 1 "$file is the $name machine as built (make it again with --dump-fsm=$name)"
		diag "$(cat "$work/fsm.diff")"
	fi
done
err=$("$op" --dump-fsm=ring 2>&1 >/dev/null); is "$?" 2 "--dump-fsm of an unknown topology exits 2"
like "$err" 'no topology "ring"' "saying so"
"$op" --bogus >/dev/null 2>&1; is "$?" 2 "an unknown flag exits 2"
"$op" --log-level loud >/dev/null 2>&1; is "$?" 2 "an unknown log level exits 2"

# A broken file at start-up: exit 1, naming line and column.
printf 'log:\n  level: info\n  colour: red\n' >"$work/bad.yaml"
out=$("$op" --config "$work/bad.yaml" 2>&1); rc=$?
is "$rc" 1 "a broken configuration at start-up exits 1"
like "$out" "bad.yaml:3:3: unknown key" "and says which line and column"

# Start with a good file.
cat >"$work/op.yaml" <<'YAML'
log:
  level: info
metrics:
  address: "127.0.0.1:0"
kubernetes:
  namespace: first
YAML
"$op" --config "$work/op.yaml" 2>"$work/log" &
pid=$!
wait_for 10 grep -q 'msg=listening' "$work/log"; ok $? "the operator starts listening"
addr1=$(listen_addr)
like "$addr1" "^127\.0\.0\.1:[0-9]+$" "it logs the address it listens on"
like "$(cat "$work/log")" "msg=started .*namespace=first" "it logs its start with the namespace"

res=$(fetch -D "$work/headers" "http://$addr1/metrics")
like "$res" "^200" "/metrics answers 200"
like "$(cat "$work/headers")" "Content-Type: text/plain; version=0.0.4; charset=utf-8" \
	"in the Prometheus text format 0.0.4"
like "$res" '^timesten_operator_build_info\{version="[0-9.]+",libevent="[^"]+",openssl="[^"]+"\} 1$' \
	"with build information"
like "$res" '^timesten_operator_event_loop_lag_seconds_bucket\{le="\+Inf"\} [0-9]+$' \
	"with the event-loop lag histogram"
like "$res" '^process_start_time_seconds [0-9]' "with the start time"
if [ -n "${PROMTOOL:-}" ]; then
	out=$(tail -n +2 <<<"$res" | "$PROMTOOL" check metrics 2>&1); rc=$?
	is "$rc" 0 "promtool check metrics accepts /metrics"; [ "$rc" = 0 ] || diag "$out"
else
	skip "promtool is not installed"
fi
like "$(fetch "http://$addr1/healthz")" "^200" "/healthz answers 200"
like "$(fetch "http://$addr1/readyz")" "^503" "/readyz answers 503 while Kubernetes cannot be reached"
like "$(cat "$work/log")" 'msg="cannot configure the Kubernetes client"' "the log says why"
like "$(cat "$work/log")" 'msg="will try again" seconds=10' "and that it will try again"
like "$(fetch "http://$addr1/nowhere")" "^404" "an unknown path answers 404"
res=$(fetch -D "$work/headers" -X POST "http://$addr1/metrics")
like "$res" "^405" "POST /metrics answers 405"
like "$(cat "$work/headers")" "Allow: GET, HEAD" "with the allowed methods"
like "$(fetch -I "http://$addr1/healthz")" "^200" "HEAD /healthz answers 200"

# SIGHUP with a good file that moves the listener and changes the namespace.
cat >"$work/op.yaml" <<'YAML'
log:
  level: debug
metrics:
  address: "127.0.0.2:0"
kubernetes:
  namespace: second
YAML
n=$(listening_count)
kill -HUP "$pid"
wait_for 10 grep -q 'msg=reloaded' "$work/log"; ok $? "SIGHUP with a good file reloads"
wait_for 5 test "$(listening_count)" -gt "$n"; ok $? "the listener moves to the new address"
addr2=$(listen_addr)
like "$(cat "$work/log")" "key=kubernetes.namespace from=first to=second" "the log says what changed"
like "$(fetch "http://$addr2/metrics")" 'timesten_operator_config_reloads_total\{result="success"\} 1' \
	"the new address serves and counts the reload"
res=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$addr1/healthz")
is "$res" "000" "the old address no longer answers"

# SIGHUP with a broken file: rejected with line and column, the good one stays.
cat >"$work/op.yaml" <<'YAML'
log:
  level: error
metrics:
  adress: "127.0.0.1:1"
YAML
kill -HUP "$pid"
wait_for 10 grep -q 'msg="reload rejected' "$work/log"; ok $? "SIGHUP with a broken file is rejected"
like "$(grep 'reload rejected' "$work/log")" "op.yaml:4:3: unknown key \\\\\"metrics.adress\\\\\"" \
	"the log line names the file, line and column"
res=$(fetch "http://$addr2/metrics")
like "$res" "^200" "the operator keeps serving on the good configuration's address"
like "$res" 'timesten_operator_config_reloads_total\{result="failure"\} 1' "the failure is counted"
like "$res" '^timesten_operator_config_last_reload_successful 0$' "the last reload shows as failed"
# The good file set level debug; the rejected one said error. Debug lines still appear.
fetch "http://$addr2/healthz" >/dev/null
wait_for 5 grep -q 'level=debug module=httpd msg=request.*path=/healthz' "$work/log"
ok $? "the running configuration (log level debug) is still in force"

# SIGTERM: a graceful stop with exit status 0 well within 5 seconds.
start=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=""
ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "$rc" 0 "SIGTERM stops the operator with exit status 0"
ok $(( ms < 5000 ? 0 : 1 )) "within 5 seconds (took ${ms} ms)"
like "$(tail -n 3 "$work/log")" "msg=stopped" "the last lines say it stopped"

done_testing
