"""The object store: typed collections, the global resourceVersion counter, the bounded event history,
watchers (API clients) and listeners (in-process controllers).

Stored objects are never mutated in place: every write stores a new dict, so an object handed to a watcher
or kept in the history stays as it was when it was written."""

import asyncio
import collections
import logging

from .errors import ApiError, expired

log = logging.getLogger("kubesim.store")

HISTORY = 5000   # events kept per resource type (the real watch cache keeps a bounded window too)


class Event:
    __slots__ = ("rv", "type", "key", "obj", "old")

    def __init__(self, rv, etype, key, obj, old):
        self.rv, self.type, self.key, self.obj, self.old = rv, etype, key, obj, old


class Watcher:
    """One watch stream: what it selects and the queue its events land in."""

    def __init__(self, rt, namespace, labels, fields):
        self.rt, self.namespace, self.labels, self.fields = rt, namespace, labels, fields
        self.queue = asyncio.Queue()
        self.closed = False

    def selects(self, obj):
        if obj is None:
            return False
        md = obj["metadata"]
        if self.namespace and md.get("namespace") != self.namespace:
            return False
        if self.labels and not self.labels.matches(md.get("labels")):
            return False
        if self.fields and not self.fields.matches(obj):
            return False
        return True

    def translate(self, ev):
        """The event this watcher sees: objects moving in or out of its selection become ADDED/DELETED."""
        new_in = self.selects(ev.obj)
        if ev.type == "DELETED":
            return ("DELETED", ev.obj) if new_in else None
        old_in = self.selects(ev.old) if ev.old is not None else False
        if new_in and old_in:
            return ("MODIFIED", ev.obj)
        if new_in:
            return ("ADDED", ev.obj)
        if old_in:
            return ("DELETED", ev.obj)
        return None

    def close(self):
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class Store:
    def __init__(self):
        self.types = {}            # (group, plural) -> ResourceType
        self.objects = {}          # (group, plural) -> {(namespace, name): obj}
        self.rv = 1
        self.history = {}          # type key -> deque of Events
        self.floors = {}           # type key -> oldest resourceVersion a watch may resume from
        self.expired_at = 0        # every resume from before this is 410 (the expire-history fault)
        self.watchers = set()
        self.listeners = []        # callables(event) run after each write
        self.type_listeners = []   # callables() run when the set of types changes

    # -- types --------------------------------------------------------------------------------------
    def add_type(self, rt):
        self.types[rt.key] = rt
        self.objects.setdefault(rt.key, {})
        for cb in self.type_listeners:
            cb()

    def remove_type(self, key):
        self.types.pop(key, None)
        self.objects.pop(key, None)
        for w in list(self.watchers):
            if w.rt.key == key:
                w.close()
        for cb in self.type_listeners:
            cb()

    def find_type(self, group, version, plural):
        rt = self.types.get((group, plural))
        if rt and version in rt.versions:
            return rt
        return None

    # -- reads --------------------------------------------------------------------------------------
    def get(self, rt, namespace, name):
        return self.objects.get(rt.key, {}).get((namespace or "", name))

    def list(self, rt, namespace=None):
        coll = self.objects.get(rt.key, {})
        if namespace:
            return [o for (ns, _), o in coll.items() if ns == namespace]
        return list(coll.values())

    # -- writes -------------------------------------------------------------------------------------
    def _commit(self, rt, etype, obj, old):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        coll = self.objects[rt.key]
        k = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if etype == "DELETED":
            coll.pop(k, None)
        else:
            coll[k] = obj
        ev = Event(self.rv, etype, rt.key, obj, old)
        hist = self.history.setdefault(rt.key, collections.deque(maxlen=HISTORY))
        hist.append(ev)
        if len(hist) == hist.maxlen:
            self.floors[rt.key] = hist[0].rv - 1
        for w in list(self.watchers):
            if w.rt.key == rt.key:
                t = w.translate(ev)
                if t:
                    w.queue.put_nowait((t[0], t[1], ev.rv))
        for cb in self.listeners:
            try:
                cb(rt, ev)
            except Exception:
                # a controller's bug must not undo or fail a write that is already committed
                log.exception("listener %r failed on %s %s", cb, ev.type, rt.plural)
        return obj

    def put_new(self, rt, obj):
        return self._commit(rt, "ADDED", obj, None)

    def put(self, rt, obj, old):
        return self._commit(rt, "MODIFIED", obj, old)

    def remove(self, rt, obj):
        final = dict(obj)
        final["metadata"] = dict(obj["metadata"])
        return self._commit(rt, "DELETED", final, obj)

    # -- watch --------------------------------------------------------------------------------------
    def watch(self, rt, namespace, labels, fields, since):
        """Register a watcher; since=None replays current objects as ADDED, else events after `since`."""
        w = Watcher(rt, namespace, labels, fields)
        if since is None:
            for obj in sorted(self.list(rt, namespace), key=lambda o: int(o["metadata"]["resourceVersion"])):
                if w.selects(obj):
                    w.queue.put_nowait(("ADDED", obj, int(obj["metadata"]["resourceVersion"])))
        else:
            floor = max(self.floors.get(rt.key, 0), self.expired_at)
            if since < floor:
                raise expired("too old resource version: %d (%d)" % (since, floor))
            for ev in self.history.get(rt.key, ()):
                if ev.rv > since:
                    t = w.translate(ev)
                    if t:
                        w.queue.put_nowait((t[0], t[1], ev.rv))
        self.watchers.add(w)
        return w

    def unwatch(self, w):
        self.watchers.discard(w)
        w.close()

    def expire_history(self):
        """Forget every past event: the next resume from an older resourceVersion gets 410 Expired."""
        self.history.clear()
        self.rv += 1
        self.expired_at = self.rv

    def drop_watches(self):
        for w in list(self.watchers):
            self.unwatch(w)

    def check_rv(self, value):
        try:
            n = int(value)
            if n < 0:
                raise ValueError
            return n
        except (TypeError, ValueError):
            raise ApiError(400, 'Invalid value: "%s": must be a valid resource version' % value, "BadRequest")
