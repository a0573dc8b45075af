"""On-disk form of a database, named as TimesTen names it: two checkpoint
files <DataStore>.ds0/.ds1 written alternately (the newest valid one wins)
and transaction log files <DataStore>.log<n> holding every commit since the
checkpoint.  A database survives the death of its daemon by replaying the
log over the newest checkpoint."""

import errno
import glob
import json
import os
import re

FORMAT = "ttsim-datastore 1"

# Directories (real paths) whose file system is full, as `ttsimctl disk-full` says: a
# write of a database file under one fails with ENOSPC, as on a full volume.
FULL = set()


def is_full(path):
    """Whether path lies under a directory FULL names."""
    if not FULL:
        return False
    real = os.path.realpath(path)
    return any(real == d or real.startswith(d + "/") for d in FULL)


def _check_space(path):
    if is_full(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


def files_of(host_ds):
    """Every file that belongs to the database at host path prefix host_ds."""
    out = [host_ds + ".ds0", host_ds + ".ds1", host_ds + ".res0", host_ds + ".res1"]
    out += glob.glob(glob.escape(host_ds) + ".log[0-9]*")
    return [p for p in out if os.path.exists(p)]


def exists(host_ds):
    return os.path.exists(host_ds + ".ds0") or os.path.exists(host_ds + ".ds1")


def _read_ckpt(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def log_numbers(host_ds):
    nums = []
    pat = re.compile(re.escape(os.path.basename(host_ds)) + r"\.log(\d+)$")
    for p in glob.glob(glob.escape(host_ds) + ".log[0-9]*"):
        m = pat.search(p)
        if m:
            nums.append(int(m.group(1)))
    return sorted(nums)


def load(host_ds):
    """Return (checkpoint dict, [log records]) or (None, None) when there is
    no usable checkpoint."""
    cands = [c for c in (_read_ckpt(host_ds + ".ds0"), _read_ckpt(host_ds + ".ds1")) if c]
    if not cands:
        return None, None
    ckpt = max(cands, key=lambda c: c.get("ckpt_seq", 0))
    records = []
    for n in log_numbers(host_ds):
        if n < ckpt.get("log_file", 0):
            continue
        try:
            with open("%s.log%d" % (host_ds, n)) as f:
                for line in f:
                    if not line.endswith("\n"):
                        break          # torn last write: not committed
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        break
        except OSError:
            continue
    return ckpt, records


class LogWriter:
    """Appends committed records to the current log file."""

    def __init__(self, host_ds, number):
        self.host_ds = host_ds
        self.number = number
        self.count = 0
        self.fd = os.open("%s.log%d" % (host_ds, number),
                          os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o660)

    def append(self, record):
        data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        _check_space(self.host_ds)
        os.write(self.fd, data)
        self.count += 1

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def write_checkpoint(host_ds, data):
    """Write checkpoint number data["ckpt_seq"] atomically into .ds0 or .ds1
    by its parity, so the newest one before it is never overwritten."""
    data = dict(data)
    data["format"] = FORMAT
    target = "%s.ds%d" % (host_ds, data.get("ckpt_seq", 0) % 2)
    tmp = target + ".tmp"
    _check_space(tmp)
    with open(tmp, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    os.replace(tmp, target)


def remove_logs_before(host_ds, number):
    for n in log_numbers(host_ds):
        if n < number:
            try:
                os.unlink("%s.log%d" % (host_ds, n))
            except OSError:
                pass
