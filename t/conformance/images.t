#!/usr/bin/python3
# The images file: an image pattern maps to an image root, entrypoint, cmd and env; commands resolve inside
# the image root first; in-pod path arguments; CONTAINER_IMAGE; unknown images are idle placeholders.
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kstest import KUBESIM, Cluster, Tap, wait_for  # noqa: E402

t = Tap()
img = tempfile.mkdtemp(prefix="kubesim-image.", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
os.makedirs(os.path.join(img, "opt/app/bin"))
os.makedirs(os.path.join(img, "usr/local/bin"))
with open(os.path.join(img, "opt/app/bin/start"), "w") as f:
    f.write('#!/bin/sh\necho "start $* image=$CONTAINER_IMAGE root=$IMAGE_ROOT greeting=$GREETING mode=$MODE"\n'
            'echo "$POD_IP" > "$1"\nexec sleep 1000\n')
with open(os.path.join(img, "usr/local/bin/hello"), "w") as f:
    f.write('#!/bin/sh\necho "hello from the image: $*"\n')
for p in ("opt/app/bin/start", "usr/local/bin/hello"):
    os.chmod(os.path.join(img, p), 0o755)
conf = os.path.join(img, "images.conf")
with open(conf, "w") as f:
    f.write("""# test images
[image example.com/app:*]
root = %s
entrypoint = ["/opt/app/bin/start"]
cmd = /tmp/ip-file
env = GREETING=bonjour
  MODE=image
  PATH=/usr/local/bin:/usr/bin:/bin
""" % img)
c = Cluster(images=conf)
atexit.register(shutil.rmtree, img, True)
k = c.kubectl

POD = """apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers:
  - name: main
    image: example.com/app:2.1
    env: [{name: MODE, value: manifest}]
  - name: other
    image: quay.io/unknown/thing:1
"""
k("apply", "-f", c.manifest("pod.yaml", POD))
rc, out, err = k("wait", "--for=condition=Ready", "pod/app", "--timeout=60s")
t.ok(rc == 0, "a pod whose image is in the images file starts", out + err)
wait_for(lambda: k("logs", "app", "-c", "main")[1], 20)
log = k("logs", "app", "-c", "main")[1]
ip = k("get", "pod", "app", "-o", "jsonpath={.status.podIP}")[1]
t.ok(log.startswith("start ") and "image=example.com/app:2.1 root=%s " % img in log,
     "the entrypoint runs from the image root with CONTAINER_IMAGE and IMAGE_ROOT", log)
t.ok("greeting=bonjour mode=manifest" in log, "image env, overridden by the manifest's env", log)
rc, out, err = k("exec", "app", "-c", "main", "--", "cat", "/tmp/ip-file")
t.ok(rc == 0 and out.strip() == ip, "cmd's in-pod path argument was mapped into the pod root", out + err)
rc, out, err = k("exec", "app", "-c", "main", "--", "hello", "world")
t.ok(rc == 0 and out == "hello from the image: world\n", "exec finds a bare command along the image PATH", out + err)
rc, out, err = k("get", "pod", "app", "-o", "jsonpath={.status.containerStatuses[1].state.running.startedAt}")
t.ok(rc == 0 and out, "an unknown image runs as an idle placeholder", out + err)
rc, out, err = k("logs", "app", "-c", "other")
t.ok(rc == 0 and out == "", "...with no output", out + err)

with open(conf, "a") as f:
    f.write("[image broken\n")
code, out = c.fault("list")
t.ok(code == 0, "the running cluster is unaffected by later edits of the file", out)
bad = os.path.join(img, "bad.conf")
with open(bad, "w") as f:
    f.write("[image x]\nroot = /\nnonsense = 1\n")
c2dir = os.path.join(c.tmp, "second")
r = subprocess.run([KUBESIM, "start", "--dir", c2dir, "--images", bad], stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, env=c.env, timeout=120)
msg = r.stdout.decode(errors="replace")
t.ok(r.returncode != 0 and "bad.conf:3: unknown key nonsense" in msg and "Traceback" not in msg,
     "a bad images file is refused with file:line", msg[-500:])
subprocess.run([KUBESIM, "stop", "--dir", c2dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t.done()
