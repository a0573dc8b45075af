"""Creating an instance directory the way ttInstanceCreate lays it out:
bin/ttenv.sh, conf/timesten.conf and sys.odbc.ini, diag/, info/, the
install link to the installation, startup/ and plsql/."""

import os
import uuid

from . import env

TTENV_SH = """\
# TimesTen environment for instance %(name)s (written by ttInstanceCreate).
# Source it: . %(home)s/bin/ttenv.sh
# In a simulated pod every path is resolved under $POD_ROOT.
TIMESTEN_HOME=%(home)s
export TIMESTEN_HOME
_tt_inst="${POD_ROOT}${TIMESTEN_HOME}"
case ":${PATH}:" in
  *":${_tt_inst}/install/bin:"*) ;;
  *) PATH="${_tt_inst}/bin:${_tt_inst}/install/bin:${PATH}" ;;
esac
export PATH
LD_LIBRARY_PATH="${_tt_inst}/install/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
export LD_LIBRARY_PATH
CLASSPATH="${_tt_inst}/install/lib/ttjdbc8.jar${CLASSPATH:+:${CLASSPATH}}"
export CLASSPATH
TNS_ADMIN="${TNS_ADMIN:-%(tns_admin)s}"
export TNS_ADMIN
unset _tt_inst
echo "LD_LIBRARY_PATH set to ${LD_LIBRARY_PATH}"
echo ""
echo "PATH set to ${PATH}"
echo ""
echo "CLASSPATH set to ${CLASSPATH}"
echo ""
echo "TIMESTEN_HOME set to ${TIMESTEN_HOME}"
echo ""
"""

TTENV_CSH = """\
# TimesTen environment for instance %(name)s (written by ttInstanceCreate).
setenv TIMESTEN_HOME %(home)s
if ( ! $?POD_ROOT ) setenv POD_ROOT ""
setenv PATH "${POD_ROOT}${TIMESTEN_HOME}/bin:${POD_ROOT}${TIMESTEN_HOME}/install/bin:${PATH}"
echo "TIMESTEN_HOME set to ${TIMESTEN_HOME}"
"""

SETUPROOT = """\
#!/bin/sh
# setuproot installs the daemon startup script as root.  In the simulated
# world daemons are started by ttDaemonAdmin inside the pod, so it does nothing.
echo "setuproot: nothing to install in a simulated pod"
exit 0
"""

STARTUP = """\
#!/bin/sh
# Startup/shutdown script of TimesTen instance %(name)s.
TIMESTEN_HOME=%(home)s; export TIMESTEN_HOME
case "$1" in
  start) exec "${POD_ROOT}${TIMESTEN_HOME}/install/bin/ttDaemonAdmin" -start ;;
  stop)  exec "${POD_ROOT}${TIMESTEN_HOME}/install/bin/ttDaemonAdmin" -stop ;;
  *) echo "usage: $0 {start|stop}"; exit 1 ;;
esac
"""

ODBC_INI = """\
#
# sys.odbc.ini: data source names of instance %(name)s.
#
[ODBC Data Sources]
"""

TTCONNECT_INI = """\
#
# sys.ttconnect.ini: client/server logical server names of instance %(name)s.
#
"""


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def create(location, name, daemon_port, server_port, tns_admin, force=False):
    """Create the instance; returns its in-pod home.  Raises EnvError."""
    home = os.path.normpath(location + "/" + name)
    host_home = env.host_path(home)
    if not os.path.isdir(env.host_path(location)):
        raise env.EnvError("The location %s does not exist" % location)
    if os.path.exists(host_home + "/conf/timesten.conf") and not force:
        raise env.EnvError("An instance already exists in %s (use -force to overwrite)" % home)
    params = {"name": name, "home": home, "tns_admin": tns_admin or ""}
    for sub in ("bin", "conf", "diag", "info", "startup", "plsql/utl_file_dir",
                "network/admin/samples"):
        os.makedirs(host_home + "/" + sub, exist_ok=True)
    write(host_home + "/bin/ttenv.sh", TTENV_SH % params, 0o755)
    write(host_home + "/bin/ttenv.csh", TTENV_CSH % params, 0o755)
    write(host_home + "/bin/setuproot", SETUPROOT, 0o755)
    write(host_home + "/startup/tt_" + name, STARTUP % params, 0o755)
    release = env.release_from_image()
    major = ".".join(release.split(".")[:2])
    conf = [
        "# TimesTen instance configuration (written by ttInstanceCreate).",
        "# Edit only while the daemon is stopped.",
        "admin_uid=%d" % os.getuid(),
        "admin_user=%s" % env.os_user(),
        "daemon_port=%d" % daemon_port,
        "group_name=%s" % env.os_group(),
        "hostname=%s" % (os.environ.get("HOSTNAME") or os.uname().nodename),
        "instance_guid=%s" % str(uuid.uuid4()).upper(),
        "instance_name=%s" % name,
        "listen_addr=%s" % env.pod_ip(),
        "server_port=%d" % server_port,
        "server_shmipc=1",
        "timesten_release=%s" % major,
        "tns_admin=%s" % (tns_admin or ""),
        "verbose=1",
    ]
    write(host_home + "/conf/timesten.conf", "\n".join(conf) + "\n")
    if force or not os.path.exists(host_home + "/conf/sys.odbc.ini"):
        write(host_home + "/conf/sys.odbc.ini", ODBC_INI % params)
    if force or not os.path.exists(host_home + "/conf/sys.ttconnect.ini"):
        write(host_home + "/conf/sys.ttconnect.ini", TTCONNECT_INI % params)
    link = host_home + "/install"
    if os.path.islink(link) or os.path.exists(link):
        os.unlink(link)
    os.symlink(env.install_dir(), link)
    return home
