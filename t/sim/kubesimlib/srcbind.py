"""The source-address shim (srcbind.c): built once with the C compiler into a cache directory and preloaded
into every container, so that a pod's connections to 127/8 come from the pod's own address, as a real
pod's come from its IP. Without a compiler pods run without it (logged once): their connections then come
from 127.0.0.1, and node partitions only refuse their API requests."""

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile

log = logging.getLogger("kubesim.srcbind")

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "srcbind.c")
_built = None   # path, "" when it cannot be built


def library():
    """The shim's path, building it on first use; "" if that is impossible."""
    global _built
    if _built is not None:
        return _built
    _built = ""
    if os.environ.get("KUBESIM_NO_SRCBIND"):
        return _built
    try:
        with open(SOURCE, "rb") as f:
            src = f.read()
    except OSError as e:
        log.warning("no source-address shim: %s", e)
        return _built
    cache = os.path.join(os.environ.get("KUBESIM_CACHE") or tempfile.gettempdir(), "kubesim-cache-%d" % os.getuid())
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, "srcbind-%s.so" % hashlib.sha256(src).hexdigest()[:16])
    if os.path.isfile(path):
        _built = path
        return _built
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        log.warning("no C compiler: pods run without the source-address shim (their connections come from "
                    "127.0.0.1, and a node partition cannot cut them off but by refusing their API requests)")
        return _built
    tmp = "%s.%d.tmp" % (path, os.getpid())
    r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", tmp, SOURCE, "-ldl"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if r.returncode != 0:
        log.warning("building the source-address shim failed, pods run without it: %s",
                    r.stdout.decode(errors="replace").strip())
        return _built
    os.replace(tmp, path)
    _built = path
    return _built


def container_env(env, ip):
    """Preload the shim into a container's processes with the pod's address as their source."""
    lib = library()
    if not lib or not ip:
        return
    pre = env.get("LD_PRELOAD", "").strip()
    env["LD_PRELOAD"] = lib + (" " + pre if pre else "")
    env["KUBESIM_SOURCE_IP"] = ip
    # ASan-built programs refuse to start when another library is preloaded before libasan
    asan = env.get("ASAN_OPTIONS", "")
    if "verify_asan_link_order" not in asan:
        env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
