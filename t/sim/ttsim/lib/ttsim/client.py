"""Helpers the utilities share: reaching the pod's daemon, starting the
shared server, and running a utility's main() so that every failure ends
in a message and an exit code, never a traceback."""

import os
import subprocess
import sys
import time

from . import env
from . import proto
from . import stall
from .errors import TTError

LIB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class UsageError(Exception):
    pass


def daemon(inst, timeout=None):
    """Connect to this pod's daemon; None when it is not running."""
    try:
        return proto.Client.tcp(env.pod_ip(), inst.daemon_port, timeout=timeout)
    except proto.ConnectFailed:
        return None


def control(msg, timeout=30):
    c = proto.Client.unix(env.server_name(), timeout=timeout)
    try:
        return c.call(msg)
    finally:
        c.close()


def ensure_server(deadline=20.0):
    """Return once the shared server answers; start it if nobody does."""
    name = env.server_name()
    try:
        control({"op": "ping"}, timeout=10)
        return
    except proto.ConnectFailed:
        pass
    from .server import log_path
    logf = open(log_path(name), "a")
    child_env = {k: v for k, v in os.environ.items()
                 if k not in ("POD_ROOT", "POD_IP", "HOSTNAME", "TIMESTEN_HOME")}
    child_env["PYTHONPATH"] = LIB_DIR
    child_env["PYTHONDONTWRITEBYTECODE"] = "1"
    subprocess.Popen([sys.executable, "-m", "ttsim.server", name],
                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                     close_fds=True, start_new_session=True, env=child_env, cwd="/")
    logf.close()
    end = time.monotonic() + deadline
    while True:
        try:
            control({"op": "ping"}, timeout=10)
            return
        except proto.ConnectFailed:
            if time.monotonic() > end:
                raise TTError(799, text="the ttsim server did not start (see %s)"
                              % log_path(name))
            time.sleep(0.05)


def print_err(prog, text):
    sys.stderr.write("%s: %s\n" % (prog, text) if prog else text + "\n")


def run(main, prog):
    """Run a utility: translate exceptions into messages and exit codes."""
    stall.watch_utility(prog)
    try:
        code = main(sys.argv[1:])
    except UsageError as e:
        print_err(prog, str(e))
        code = 1
    except env.EnvError as e:
        print_err(prog, str(e))
        code = 1
    except TTError as e:
        print_err(prog, "TT%04d: %s" % (e.code, e.text))
        code = 1
    except proto.ConnectFailed as e:
        print_err(prog, "TT0799: Unable to connect to daemon; check daemon status (%s)" % e)
        code = 1
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 1
    except Exception as e:              # never a traceback to the caller
        if os.environ.get("TTSIM_DEBUG"):
            raise
        print_err(prog, "internal error of the simulator: %s: %s" % (type(e).__name__, e))
        code = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.exit(code or 0)


def odbc_error(e, release=None):
    """The '*** [TimesTen]...' form some utilities print for ODBC errors."""
    rel = release or env.release_from_image()
    return ("*** [TimesTen][TimesTen %s ODBC Driver][TimesTen]TT%04d: %s\n"
            "*** ODBC Error = S1000, TimesTen Error = %d" % (rel, e.code, e.text, e.code))


def version_line():
    return "TimesTen Release %s" % env.release_from_image()


def common_flags(argv, prog, usage):
    """Handle -h/-help/-? and -V/-version the same way in every utility."""
    for a in argv:
        if a in ("-h", "-help", "-?", "--help"):
            sys.stdout.write(usage)
            sys.exit(0)
        if a in ("-V", "-version"):
            sys.stdout.write(version_line() + "\n")
            sys.exit(0)
