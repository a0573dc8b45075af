"""ttsim: a simulator of Oracle TimesTen Classic for tests of the operator
and its agent.  The utilities in ../../bin use this package; the shared
server (ttsim.server) plays every simulated pod's TimesTen daemon."""

import json as _json
import os as _os
import sys as _sys

# TTSIM_ARGV_LOG=FILE: every utility appends its argument vector to FILE, one JSON array a
# line, so that a test can check what a real process listing would have shown.
if _os.environ.get("TTSIM_ARGV_LOG"):
    with open(_os.environ["TTSIM_ARGV_LOG"], "a") as _f:
        _f.write(_json.dumps([_os.path.basename(_sys.argv[0])] + _sys.argv[1:]) + "\n")
