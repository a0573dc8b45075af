"""The images file: which local program plays which container image.

Format (see t/sim/README.md): sections `[image PATTERN]` (fnmatch pattern on the image reference, first match
wins) with keys `root`, `entrypoint`, `cmd`, `env` (one NAME=value per line), `workdir`, `placeholder`.
`${top_srcdir}`, `${top_builddir}` and `${kubesim_dir}` (this file's directory) are substituted in values."""

import fnmatch
import json
import os
import shlex

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Image:
    def __init__(self, pattern, root="/", entrypoint=None, cmd=None, env=None, workdir=None, placeholder=False):
        self.pattern = pattern
        self.root = root
        self.entrypoint = entrypoint or []
        self.cmd = cmd or []
        self.env = env or {}
        self.workdir = workdir
        self.placeholder = placeholder


PLACEHOLDER = Image("*", placeholder=True)


def _words(value):
    value = value.strip()
    if not value:
        return []
    if value.startswith("["):
        v = json.loads(value)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ValueError("expected a JSON array of strings")
        return v
    return shlex.split(value)


class ImageTable:
    def __init__(self, path, subst):
        self.path = path
        self.images = []
        if path and os.path.exists(path):
            self._load(path, subst)

    def _load(self, path, subst):
        cur = None
        key = None
        with open(path) as f:
            for lineno, raw in enumerate(f, 1):
                line = raw.rstrip("\n")
                stripped = line.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                if stripped.startswith("[") and stripped.endswith("]"):
                    head = stripped[1:-1].split(None, 1)
                    if len(head) != 2 or head[0] != "image":
                        raise ValueError("%s:%d: expected [image PATTERN]" % (path, lineno))
                    cur = Image(head[1])
                    self.images.append(cur)
                    key = None
                    continue
                if cur is None:
                    raise ValueError("%s:%d: a setting outside an [image PATTERN] section" % (path, lineno))
                if line[:1] in " \t" and key == "env":
                    k, eq, v = stripped.partition("=")
                    if not eq:
                        raise ValueError("%s:%d: env lines are NAME=value" % (path, lineno))
                    cur.env[k.strip()] = self._subst(v.strip(), subst)
                    continue
                k, eq, v = stripped.partition("=")
                if not eq:
                    raise ValueError("%s:%d: expected key = value" % (path, lineno))
                key, v = k.strip(), self._subst(v.strip(), subst)
                try:
                    if key == "root":
                        cur.root = v
                    elif key == "entrypoint":
                        cur.entrypoint = _words(v)
                    elif key == "cmd":
                        cur.cmd = _words(v)
                    elif key == "workdir":
                        cur.workdir = v
                    elif key == "placeholder":
                        cur.placeholder = v.lower() in ("1", "true", "yes")
                    elif key == "env":
                        if v:
                            n, eq2, val = v.partition("=")
                            if not eq2:
                                raise ValueError("env lines are NAME=value")
                            cur.env[n.strip()] = val.strip()
                    else:
                        raise ValueError("unknown key %s" % key)
                except ValueError as e:
                    raise ValueError("%s:%d: %s" % (path, lineno, e))

    @staticmethod
    def _subst(v, subst):
        for k, val in subst.items():
            v = v.replace("${%s}" % k, val)
        return v

    def lookup(self, ref):
        for img in self.images:
            if fnmatch.fnmatchcase(ref, img.pattern):
                return img
        return PLACEHOLDER


def resolve_program(image, name, env_path):
    """Where argv[0] runs from: an absolute path inside the image root, else on the host; a bare name along
    the image's PATH inside the image root, then along the host's PATH."""
    root = image.root or "/"
    if "/" in name:
        if name.startswith("/"):
            inside = os.path.join(root, name.lstrip("/"))
            if os.path.isfile(inside) and os.access(inside, os.X_OK):
                return inside
        return name if os.path.exists(name) else None
    for d in (env_path or DEFAULT_PATH).split(":"):
        if not d:
            continue
        cand = os.path.join(root, d.lstrip("/"), name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    for d in DEFAULT_PATH.split(":") + os.environ.get("PATH", "").split(":"):
        if d:
            cand = os.path.join(d, name)
            if os.path.isfile(cand) and os.access(cand, os.X_OK):
                return cand
    return None


def map_args(args, pod_root):
    """Absolute path arguments whose parent directory exists in the pod root are taken as in-pod paths."""
    out = []
    for a in args:
        if a.startswith("/") and not a.startswith("//"):
            parent = os.path.dirname(os.path.join(pod_root, a.lstrip("/")).rstrip("/"))
            if os.path.isdir(parent) and parent.startswith(pod_root):
                out.append(os.path.join(pod_root, a.lstrip("/")))
                continue
        out.append(a)
    return out
