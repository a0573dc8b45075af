# TAP helpers for shell tests: ok, is, like, diag, skip, done_testing, and a
# deadline-bounded wait_for (never a fixed sleep).
tap_n=0
tap_failed=0

diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

ok() { # ok STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "     got: '$1'" "    want: '$2'"; fi
}

like() { # like TEXT PATTERN(grep -E) DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"; diag "text lacks /$2/:"; printf '%s\n' "$1" | tail -n 20 | diag "$(cat)"; fi
}

unlike() { # unlike TEXT PATTERN(grep -E) DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"; diag "text has /$2/"; else ok 0 "$3"; fi
}

skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $1"; }

done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds or the
# deadline passes; returns its last status.
wait_for() {
	local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
	shift
	while :; do
		"$@" && return 0
		[ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ] && return 1
		sleep 0.1
	done
}
