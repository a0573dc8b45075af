"""TimesTen built-in procedures called with CALL: replication state and
agent control, return-service settings, policies, status and checkpoints."""

import asyncio

from . import repscheme
from .errors import TTError

REP_STATE_COLS = ["STATE"]


def rows(cols, data):
    return {"cols": cols, "rows": data}


def ok():
    return {"ok": True}


def _arg(args, i, default=None):
    return args[i] if i < len(args) else default


def _need_scheme(ex):
    db = ex.db
    if db.scheme is None:
        raise TTError(8191, db.name, db.daemon.hostname)


def rep_state_get(ex, args):
    return rows(REP_STATE_COLS, [[ex.db.state]])


def rep_state_set(ex, args):
    ex.need_sys("ADMIN")
    _need_scheme(ex)
    want = str(_arg(args, 0, "")).upper()
    db = ex.db
    if want != "ACTIVE":
        raise TTError(8141, text="Only ACTIVE can be set with ttRepStateSet "
                      "(requested state %s)" % (want or "NULL"))
    st = db.state
    if st == "ACTIVE":
        return ok()
    eligible = st == "STANDBY" or (
        st == "IDLE" and not db.rep.get("duplicated") and
        db.rep.get("role_before") in (None, "ACTIVE"))
    if not eligible:
        raise TTError(8141)
    db.rep["peer_pstate"] = db.rep.get("peer_pstate") or "start"
    db.set_state("ACTIVE", "ttRepStateSet")
    return ok()


def rep_deactivate(ex, args):
    ex.need_sys("ADMIN")
    _need_scheme(ex)
    db = ex.db
    if db.state != "ACTIVE":
        raise TTError(8141, text="ttRepDeactivate requires the ACTIVE state "
                      "(current state %s)" % db.state)
    db.set_state("IDLE", "ttRepDeactivate")
    db.rep["role_before"] = "DEACTIVATED"
    db.checkpoint()
    return ok()


def rep_state_save(ex, args):
    ex.need_sys("ADMIN")
    _need_scheme(ex)
    db = ex.db
    state = str(_arg(args, 0, "")).upper()
    store = _arg(args, 1)
    host = _arg(args, 2)
    if state != "FAILED":
        raise TTError(8141, text="ttRepStateSave only records FAILED")
    if db.state != "ACTIVE":
        raise TTError(8141, text="ttRepStateSave must be called on the ACTIVE database")
    peer = db.peer_store()
    if store is None or peer is None or str(store).upper() != peer["name"].upper() or \
            (host is not None and str(host).lower() != peer["host"].lower()):
        raise TTError(8191, store or "NULL", host or "NULL")
    db.rep["peer_pstate"] = "failed"
    db.daemon.logmsg("Info", "Peer %s on %s of %s recorded as FAILED"
                     % (peer["name"], peer["host"], db.path))
    if db.repagent is not None:
        db.repagent.resync()
    db.checkpoint()
    return ok()


def rep_start(ex, args):
    ex.need_sys("ADMIN")
    ex.db.daemon.rep_start(ex.db, manual=True)
    return ok()


def rep_stop(ex, args):
    ex.need_sys("ADMIN")
    ex.db.daemon.rep_stop(ex.db, manual=True)
    return ok()


def rep_policy_set(ex, args):
    ex.need_sys("ADMIN")
    ex.db.daemon.set_policy(ex.db.path, "rep_policy", str(_arg(args, 0, "")).lower())
    return ok()


def ram_policy_set(ex, args):
    ex.need_sys("ADMIN")
    ex.db.daemon.set_policy(ex.db.path, "ram_policy", str(_arg(args, 0, "")),
                            grace=_arg(args, 1))
    return ok()


def ram_policy_get(ex, args):
    pol = ex.db.daemon.policies(ex.db.path)
    return rows(["RAMPOLICY", "RAMGRACE"], [[pol["ram_policy"], pol["ram_grace"]]])


async def rep_subscriber_wait(ex, args):
    _need_scheme(ex)
    if ex.s.in_transaction():
        raise TTError(8197, text="ttRepSubscriberWait cannot be called with an "
                      "open transaction")
    secs = _arg(args, 4, -1)
    secs = 86400 if secs is None or secs < 0 else secs
    db = ex.db
    target = db.lsn
    if db.state != "ACTIVE" or db.rep.get("peer_pstate") == "failed":
        return rows(["TIMEOUT"], [["01"]])
    acked = await db.wait_ack(target, secs)
    return rows(["TIMEOUT"], [["00" if acked else "01"]])


def rep_sync_set(ex, args):
    req, wait, action = _arg(args, 0), _arg(args, 1), _arg(args, 2)
    if req is not None:
        ex.s.sync_request = bool(int(str(req), 16) if isinstance(req, str) else req)
    if wait is not None:
        ex.s.sync_wait = max(0, int(wait))
    if action is not None:
        if int(action) not in (1, 2):
            raise TTError(2609, text="localAction must be 1 (NO ACTION) or 2 (COMMIT)")
        ex.s.sync_action = "COMMIT" if int(action) == 2 else "NO ACTION"
    return ok()


def rep_sync_get(ex, args):
    attrs = ex.db.self_attrs()
    wait = ex.s.sync_wait if ex.s.sync_wait is not None else attrs["return_wait_time"]
    action = ex.s.sync_action or attrs["local_commit_action"]
    return rows(["REQUESTRETURN", "RETURNWAIT", "LOCALACTION"],
                [["01" if ex.s.sync_request else "00", wait,
                  2 if action == "COMMIT" else 1]])


def replication_status(ex, args):
    _need_scheme(ex)
    db = ex.db
    peer = db.peer_store()
    want = _arg(args, 0)
    out = []
    if peer is not None and (want is None or str(want).upper() == peer["name"].upper()):
        agent = db.repagent
        pstate = db.rep.get("peer_pstate", "start")
        since = agent.secs_since_last_msg() if agent else -1
        port = db.peer_attrs()["port"]
        out.append([peer["name"].upper(), peer["host"].upper(), port, pstate, 1, since,
                    repscheme.SCHEME_NAME, repscheme.SCHEME_OWNER])
    return rows(["SUBSCRIBER", "HOSTNAME", "PORT", "PSTATE", "LOGS", "LASTMSG",
                 "REPLICATIONNAME", "REPLICATIONOWNER"], out)


def rep_sync_subscriber_status(ex, args):
    _need_scheme(ex)
    return rows(["DISABLE"], [[1 if ex.db.rep.get("return_disabled") else 0]])


def datastore_status(ex, args):
    db = ex.db
    kinds = {"Process": "application", "Replication": "replication",
             "Subdaemon": "subdaemon", "Server": "application"}
    out = []
    for typ, pid, ctx, name, connid in db.daemon.connection_rows(db):
        out.append([db.path, pid, ctx, kinds.get(typ, "application"), db.shm_id, name, connid])
    return rows(["DATASTORE", "PID", "CONTEXT", "CONTYPE", "SHMID", "CONNECTION_NAME",
                 "CONNID"], out)


def ckpt(ex, args):
    ex.db.checkpoint(strict=True)
    return ok()


def configuration(ex, args):
    db = ex.db
    want = _arg(args, 0)
    items = [("DataStore", db.path)] + [(k, v) for k, v in db.attrs.items()]
    if want is not None:
        items = [kv for kv in items if kv[0].lower() == str(want).lower()]
    return rows(["PARAMNAME", "PARAMVALUE"], [[k, v] for k, v in items])


def cache_uid_pwd_set(ex, args):
    if not (ex.has_sys("CACHE_MANAGER") or ex.has_sys("ADMIN")):
        raise TTError(15100, ex.s.user, "CACHE_MANAGER")
    ex.db.rep["cache_uid"] = _arg(args, 0)
    ex.db.checkpoint()
    return ok()


def cache_uid_get(ex, args):
    return rows(["CACHEUID"], [[ex.db.rep.get("cache_uid")]])


def cache_policy_set(ex, args):
    ex.db.daemon.set_policy(ex.db.path, "cache_policy", str(_arg(args, 0, "")).lower())
    return ok()


def cache_unsupported(ex, args):
    raise TTError(8045, "TimesTen Cache (no Oracle database is reachable)")


def host_name_get(ex, args):
    return rows(["HOSTNAME"], [[ex.db.daemon.hostname]])


def noop(ex, args):
    return ok()


PROCEDURES = {
    "TTREPSTATEGET": rep_state_get,
    "TTREPSTATESET": rep_state_set,
    "TTREPDEACTIVATE": rep_deactivate,
    "TTREPSTATESAVE": rep_state_save,
    "TTREPSTART": rep_start,
    "TTREPSTOP": rep_stop,
    "TTREPPOLICYSET": rep_policy_set,
    "TTRAMPOLICYSET": ram_policy_set,
    "TTRAMPOLICYGET": ram_policy_get,
    "TTREPSUBSCRIBERWAIT": rep_subscriber_wait,
    "TTREPSYNCSET": rep_sync_set,
    "TTREPSYNCGET": rep_sync_get,
    "TTREPLICATIONSTATUS": replication_status,
    "TTREPSYNCSUBSCRIBERSTATUS": rep_sync_subscriber_status,
    "TTDATASTORESTATUS": datastore_status,
    "TTCKPT": ckpt,
    "TTCKPTBLOCKING": ckpt,
    "TTCONFIGURATION": configuration,
    "TTCACHEUIDPWDSET": cache_uid_pwd_set,
    "TTCACHEUIDGET": cache_uid_get,
    "TTCACHEPOLICYSET": cache_policy_set,
    "TTCACHESTART": cache_unsupported,
    "TTCACHESTOP": cache_unsupported,
    "TTHOSTNAMEGET": host_name_get,
    "TTOPTUPDATESTATS": noop,
    "TTOPTESTIMATESTATS": noop,
    "TTCOMPUTETABSIZES": noop,
    "TTOPTSETFLAG": noop,
    "TTREPQUERYTHRESHOLDSET": noop,
}


async def call(ex, name, args):
    fn = PROCEDURES.get(name.upper())
    if fn is None:
        raise TTError(8045, "Procedure %s" % name)
    result = fn(ex, args)
    if asyncio.iscoroutine(result):
        result = await result
    return result
