#!/usr/bin/python3
"""t/chaos on fixed seeds, as CI runs it: each seed's fault schedule against its pair,
every invariant holding and the pair converging. The seeds are chosen to cover both
return services and many fault kinds between them (t/chaos --list --seed N shows a
schedule): seed 26, RETURN TWOSAFE: the active's volume full, the standby deleted during
its duplicate, the active's node partitioned, the standby's volume full; seed 84, NO
RETURN: the active's volume full, API answers 3 s late, the active's agent alone
stopped, the operator's leader killed with a second replica up; seed 88, RETURN TWOSAFE:
the API server restarted, 409 storms, the standby's volume full, the active's agent
stopped; seed 94, NO RETURN: the active's node partitioned, both pods deleted, the
standby deleted during its duplicate, the active's agent stopped."""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = [26, 84, 88, 94]

out = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "chaos")] +
                     ["--seed=%d" % s for s in SEEDS], capture_output=True, text=True)
lines = out.stdout.splitlines()
n, failed = 0, 0
for s in SEEDS:
    row = [ln for ln in lines if re.match(r"^# %d +" % s, ln)]
    n += 1
    good = bool(row) and row[0].split()[2] == "ok"
    failed += not good
    print("%sok %d - chaos seed %d: %s" % ("" if good else "not ", n, s,
                                          " ".join(row[0].split()[2:]) if row else "no result"))
summary = lines[-1] if lines else ""
n += 1
good = out.returncode == 0 and re.match(r"^chaos: runs=%d violations=0 unconverged=0 " % len(SEEDS),
                                        summary) is not None
print("%sok %d - %s" % ("" if good else "not ", n, summary or "t/chaos printed nothing"))
failed += not good
if failed:
    for ln in (out.stdout + out.stderr).splitlines()[-400:]:
        print("# " + ln)
print("1..%d" % n)
sys.exit(1 if failed else 0)
