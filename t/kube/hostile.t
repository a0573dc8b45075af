#!/usr/bin/python3
"""An informer against a server that misbehaves: a failing and a mistyped list, paginated
lists, truncated JSON, objects without metadata, a 10 MB line, an unknown event type, a
watch answered as HTML, 410 as an HTTP status and as an ERROR event, a stream cut in the
middle of an event, bookmarks. Each is logged and survived; the cache ends right."""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "t", "kube"))
import ktest  # noqa: E402
from fakeapi import Answer, FakeApi, cm, event, status  # noqa: E402

tap = ktest.Tap()
if not os.access(ktest.KTOOL, os.X_OK):
    tap.bail("ktool is not built at %s" % ktest.KTOOL)
work = ktest.Workdir()

LIST = {"kind": "ConfigMapList", "apiVersion": "v1"}


def page(items, rv, cont=None):
    d = dict(LIST, metadata={"resourceVersion": str(rv)}, items=items)
    if cont:
        d["metadata"]["continue"] = cont
    return d


huge = cm("huge", 14)
huge["data"]["v"] = "x" * (10 << 20)
lists = [
    Answer(500, status(500, "InternalError", "etcd is sulking")),
    Answer(200, "<html>proxy login</html>", ctype="text/html"),
    Answer(200, page([cm("a", 10)], 10, cont="tok1")),
    Answer(200, page([cm("gone-soon", 9)], 10)),
    # after the watch's 410: a fresh list where b is gone
    Answer(200, page([cm("a", 12), cm("b", 13), cm("c", 20)], 20)),
    # after the ERROR event: b deleted, plus an item without metadata
    Answer(200, page([cm("a", 25), cm("c", 22), {"data": {"no": "metadata"}}], 30)),
]
watches = [
    Answer(stream=[
        event("ADDED", cm("a", 11)),
        '{"type":"ADDED","object":{"metadata":\n',  # truncated JSON
        event("ADDED", {"kind": "ConfigMap"}),  # no metadata
        event("ADDED", cm("x", 12, ns="elsewhere")),  # another namespace
        event("SURPRISE", cm("a", 11)),  # unknown type
        event("ADDED", huge),  # a 10 MB line
        event("MODIFIED", cm("a", 12)),
        event("ADDED", cm("b", 13)),
        event("DELETED", cm("gone-soon", 15)),
    ]),
    Answer(200, "<html>oops</html>", ctype="text/html"),
    Answer(410, status(410, "Expired", "too old resource version: 13 (20)")),
    Answer(stream=[event("ERROR", status(410, "Expired", "too old resource version: 20 (30)"))]),
    Answer(stream=[event("ADDED", cm("d", 31)), '{"type":"ADDED","object":{"meta', None]),
    Answer(stream=[event("BOOKMARK", {"kind": "ConfigMap", "apiVersion": "v1",
                                       "metadata": {"resourceVersion": "40"}}),
                   event("ADDED", cm("e", 41))]),
]
api = FakeApi(lists, watches)
work.cleanups.append(api.stop)
kc = api.kubeconfig(work.file("kubeconfig"))
w = ktest.Ktool(work, "watch", ["--log-level", "debug", "watch", "configmaps", "--namespace", "ns",
                                "--watch-timeout", "30", "--max-line", str(4 << 20)], kubeconfig=kc)
tap.ok(w.wait_line("SYNCED", 30) is not None, "the informer syncs despite a 500 and an HTML list")
tap.is_(w.wait_line("SYNCED", 1)[2:4] if w.lines("SYNCED") else None, ["2", "10"],
        "with both pages of the list (2 objects at resourceVersion 10)")
lreq = api.list_requests()
tap.ok(len(lreq) >= 4 and lreq[3].get("continue") == "tok1" and lreq[2].get("limit") == "500",
       "pages are asked with limit and continue")
ok = ktest.wait_for(40, lambda: len(api.watch_requests()) >= 7)
tap.ok(ok, "the informer keeps watching through every fault (%d watches)" % len(api.watch_requests()))
wreq = api.watch_requests()
if len(wreq) >= 7:
    tap.is_(wreq[0].get("resourceVersion"), "10", "the first watch starts at the list's resourceVersion")
    tap.is_(wreq[0].get("allowWatchBookmarks"), "true", "asking for bookmarks")
    tap.is_(wreq[0].get("timeoutSeconds"), "30", "with timeoutSeconds")
    tap.is_(wreq[1].get("resourceVersion"), "15", "a watch resumes from the last event seen")
    tap.is_(wreq[3].get("resourceVersion"), "20", "after a 410 the informer lists again and watches from there")
    tap.is_(wreq[4].get("resourceVersion"), "30", "after an ERROR 410 event as well")
    tap.is_(wreq[5].get("resourceVersion"), "31", "after a cut stream, from the last complete event")
    tap.is_(wreq[6].get("resourceVersion"), "41", "a bookmark advances the resourceVersion")

want = {"ns/a": "25", "ns/c": "22", "ns/d": "31", "ns/e": "41"}
cache = ktest.wait_for(20, lambda: (lambda c: c if c == want else None)(w.dump_state()[0]), 0.3)
tap.is_(cache, want, "the cache ends right")
seen = {}
for line in w.lines():
    if line[1] in ("ADDED", "UPDATED"):
        seen[line[2]] = line[3]
    elif line[1] == "DELETED":
        seen.pop(line[2], None)
tap.is_(seen, want, "and so does what the handlers were told")
out = w.out()
tap.like(out, r"^\S+ DELETED ns/gone-soon 15$", "a watched deletion reaches the handler")
tap.like(out, r"^\S+ DELETED ns/b 13$", "a deletion found by a relist reaches the handler with the last state")
tap.like(out, r"^\S+ UPDATED ns/a 25$", "so does a change found by a relist")
log = w.err()
tap.like(log, r'msg="watch event skipped: not JSON"', "truncated JSON is logged")
tap.like(log, r'msg="watch event skipped" .*problem="no metadata"', "an object without metadata is logged")
tap.like(log, r'problem="from another namespace"', "an object from another namespace is logged")
tap.like(log, r'msg="watch event skipped: unknown type" .*type=SURPRISE', "an unknown event type is logged")
tap.like(log, r'msg="watch event skipped: longer than the line limit" .*bytes=1048\d{4}', "the 10 MB line is logged")
tap.ok(len(lreq) >= 4, "a 500 on the list is retried, an HTML answer relisted")
tap.like(log, r'msg="list failed" .*instead of JSON', "the HTML list is logged")
tap.like(log, r'msg="watch answered with the wrong content type" .*content_type=text/html',
         "the HTML watch is logged")
tap.like(log, r'msg="watch history expired; listing again"', "410 is logged")
tap.like(log, r'msg="watch stream ended in the middle of an event"', "the cut stream is logged")
tap.like(log, r'msg="list item skipped" .*problem="no metadata"', "a list item without metadata is logged")
tap.ok("huge" not in json.dumps(cache), "the oversized object never entered the cache")
tap.ok(w.proc.poll() is None, "the informer is still running")
w.signal(signal.SIGTERM)
tap.is_(w.proc.wait(20), 0, "and stops cleanly")
tap.ok("AddressSanitizer" not in log and "runtime error" not in log, "without sanitizer reports")
tap.done()
