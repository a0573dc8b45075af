"""Where a simulated TimesTen program runs: the pod's root directory, its
address, the instance it belongs to, the release it plays, and how host
names resolve inside the pod."""

import grp
import hashlib
import ipaddress
import os
import pwd
import re
import socket

DEFAULT_RELEASE = "22.1.1.31.0"
DEFAULT_DAEMON_PORT = 6624
DEFAULT_SERVER_PORT = 6625
RELEASE_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)\.(\d+)$")


class EnvError(Exception):
    """The environment cannot run the utility (no instance, bad paths)."""


def pod_root():
    """Host directory standing for '/' inside the pod ('' on a real host)."""
    root = os.environ.get("POD_ROOT", "")
    return root.rstrip("/")


def host_path(path, root=None):
    """Map an in-pod path to the host file system."""
    if root is None:
        root = pod_root()
    if not path.startswith("/"):
        path = pod_cwd(root) + "/" + path
    return root + os.path.normpath(path) if root else os.path.normpath(path)


def pod_cwd(root=None):
    if root is None:
        root = pod_root()
    cwd = os.getcwd()
    if root and (cwd == root or cwd.startswith(root + "/")):
        return cwd[len(root):] or "/"
    return cwd


def pod_ip():
    return os.environ.get("POD_IP") or "127.0.0.1"


def install_dir():
    """Host path of this installation (the directory holding bin/ and lib/)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(here))


def release_from_image(image=None):
    """The TimesTen release a container plays, from its image tag."""
    if image is None:
        image = os.environ.get("CONTAINER_IMAGE", "")
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.rsplit(":", 1)[1]
        if RELEASE_RE.match(tag):
            return tag
    return DEFAULT_RELEASE


def os_user():
    name = os.environ.get("USER") or os.environ.get("LOGNAME")
    if name:
        return name
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def os_group():
    try:
        return grp.getgrgid(os.getgid()).gr_name
    except KeyError:
        return str(os.getgid())


def server_name():
    """Abstract unix socket name of the shared ttsim server.

    One server per installation directory, version of its code, and user:
    two source trees (e.g. a distcheck copy) never talk to each other's
    server, and after the code changed new daemons go to a new server while
    the old one serves its daemons until they are gone (daemons are reached
    by their pod address, not by this name)."""
    override = os.environ.get("TTSIM_SERVER_NAME")
    if override:
        return override
    h = hashlib.sha1(os.path.realpath(install_dir()).encode())
    lib = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(lib)):
        if name.endswith(".py"):
            st = os.stat(os.path.join(lib, name))
            h.update(("%s:%d:%d;" % (name, st.st_size, st.st_mtime_ns)).encode())
    return "ttsim-%d-%s" % (os.getuid(), h.hexdigest()[:12])


def read_conf(path):
    """Read a timesten.conf style file: key=value lines, '#' comments."""
    conf = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            conf[key.strip()] = value.strip()
    return conf


class Instance:
    """A TimesTen instance as seen from inside the pod."""

    def __init__(self, home, root=None):
        self.root = pod_root() if root is None else root
        self.home = os.path.normpath(home)
        self.conf_file = host_path(self.home + "/conf/timesten.conf", self.root)
        if not os.path.isfile(self.conf_file):
            raise EnvError("Instance %s does not exist (no %s/conf/timesten.conf)"
                           % (self.home, self.home))
        self.conf = read_conf(self.conf_file)
        self.name = self.conf.get("instance_name", os.path.basename(self.home))
        self.daemon_port = int(self.conf.get("daemon_port", DEFAULT_DAEMON_PORT))
        self.server_port = int(self.conf.get("server_port", DEFAULT_SERVER_PORT))
        self.admin = self.conf.get("admin_user", os_user())
        self.group = self.conf.get("group_name", os_group())

    def host(self, path):
        return host_path(path, self.root)

    @property
    def odbc_ini(self):
        return self.home + "/conf/sys.odbc.ini"


def current_instance():
    home = os.environ.get("TIMESTEN_HOME")
    if not home:
        raise EnvError("TIMESTEN_HOME environment variable not set; "
                       "source <instance>/bin/ttenv.sh first")
    return Instance(home)


def parse_hosts(text):
    table = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].split()
        if len(line) < 2:
            continue
        for name in line[1:]:
            table.setdefault(name.lower(), line[0])
    return table


_hosts_cache = {}


def hosts_lookup(name, root):
    """Look a name up in <root>/etc/hosts (cached by modification time)."""
    path = (root or "") + "/etc/hosts"
    try:
        st = os.stat(path)
    except OSError:
        return None
    cached = _hosts_cache.get(path)
    if not cached or cached[0] != (st.st_mtime_ns, st.st_size):
        try:
            with open(path) as f:
                table = parse_hosts(f.read())
        except OSError:
            return None
        cached = ((st.st_mtime_ns, st.st_size), table)
        _hosts_cache[path] = cached
    return cached[1].get(name.lower())


def is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def resolve(name, root=None, use_system=True):
    """Resolve a host name as a program inside the pod would: the pod's
    /etc/hosts first, then the system resolver.  Returns an address or None."""
    if root is None:
        root = pod_root()
    if is_ip(name):
        return name
    addr = hosts_lookup(name, root) if root else None
    if addr:
        return addr
    if not use_system:
        return None
    try:
        infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    return infos[0][4][0] if infos else None
