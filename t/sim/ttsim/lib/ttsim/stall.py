"""Reports of simulated programs that stall: a utility still running, or a
daemon request still unanswered, after STALL_SECONDS.  Each report (what,
for how long, and where its code waits) is appended to
$TIMESTEN_HOME/diag/ttsim.stalls on the pod's volume, which outlives the
pod, so that a test that saw a utility time out can say why.  A report
changes nothing: the program goes on waiting."""

import json
import os
import sys
import threading
import time
import traceback

from . import env

STALL_SECONDS = float(os.environ.get("TTSIM_STALL_SECONDS", "30"))


def _hide_secrets(argv):
    out, hide = [], False
    for a in argv:
        if hide:
            out.append("[redacted]")
            hide = False
            continue
        low = a.lower()
        hide = low in ("-pwd", "-pwdcrypt", "-password")
        out.append("[redacted]" if "pwd=" in low else a)
    return out


def write(home_on_host, rec):
    """Append one report; never raises."""
    rec = dict(rec, time=time.time(), stamp=time.strftime("%Y-%m-%dT%H:%M:%S"))
    try:
        os.makedirs(os.path.join(home_on_host, "diag"), exist_ok=True)
        with open(os.path.join(home_on_host, "diag", "ttsim.stalls"), "a") as f:
            f.write(json.dumps(rec) + "\n")
    except OSError:
        pass


def watch_utility(prog):
    """In a utility: report once if it is still running after STALL_SECONDS,
    with the stack of its main thread."""
    home = os.environ.get("TIMESTEN_HOME")
    if not home or STALL_SECONDS <= 0:
        return
    main_ident = threading.main_thread().ident
    started = time.monotonic()

    def report():
        frame = sys._current_frames().get(main_ident)
        stack = "".join(traceback.format_stack(frame)) if frame is not None else ""
        write(env.host_path(home), {
            "what": "utility", "prog": prog, "pid": os.getpid(),
            "argv": _hide_secrets(sys.argv[1:]), "pod_ip": env.pod_ip(),
            "seconds": round(time.monotonic() - started, 1), "stack": stack})

    t = threading.Timer(STALL_SECONDS, report)
    t.daemon = True
    t.start()


def task_stack(task):
    """Where a task waits: the frames of the coroutines it awaits, outermost
    first (Task.print_stack shows only the outermost of a suspended one)."""
    lines, aw, depth = [], task.get_coro(), 0
    while aw is not None and depth < 100:
        frame = getattr(aw, "cr_frame", None) or getattr(aw, "gi_frame", None)
        if frame is not None:
            lines.append('  File "%s", line %d, in %s\n' % (
                frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        nxt = getattr(aw, "cr_await", None)
        if nxt is None:
            nxt = getattr(aw, "gi_yieldfrom", None)
        if nxt is None and frame is None:
            lines.append("  waiting for %r\n" % (aw,))
        aw, depth = nxt, depth + 1
    return "".join(lines)

def cancel(handle):
    """Cancel a pending report (call_later handle or None); returns None."""
    if handle is not None:
        handle.cancel()
    return None
