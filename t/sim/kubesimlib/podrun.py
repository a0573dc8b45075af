"""One pod's life on the node: set-up, init containers, containers (processes or placeholders), restarts
with back-off, probes, status reports, and graceful termination."""

import asyncio
import base64
import logging
import os
import signal
import subprocess

from . import events, srcbind
from .images import DEFAULT_PATH, map_args, resolve_program
from .podfs import PodFS, field_value
from .probes import run_probe
from .util import now, parse_time, rfc3339

log = logging.getLogger("kubesim.kubelet")


class ConfigError(Exception):
    pass


def expand(s, env):
    """Kubernetes $(VAR) expansion in command, args and env values; $$ escapes."""
    out, i = [], 0
    while i < len(s):
        if s.startswith("$$", i):
            out.append("$")
            i += 2
        elif s.startswith("$(", i) and ")" in s[i:]:
            j = s.index(")", i)
            name = s[i + 2:j]
            out.append(env[name] if name in env else s[i:j + 1])
            i = j + 1
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


class Container:
    def __init__(self, runner, spec, init=False):
        self.runner = runner
        self.spec = spec
        self.name = spec.get("name")
        self.image_ref = spec.get("image", "")
        self.image = runner.kubelet.images.lookup(self.image_ref)
        self.init = init
        self.restarts = 0
        self.proc = None
        self.running = False
        self.exit_code = None
        self.state = {"waiting": {"reason": "ContainerCreating"}}
        self.last_state = {}
        self.started_at = None
        self.ready = False
        self.started = False           # startup probe passed (or none)
        self.restart_at = None
        self.probe_tasks = []
        self.instance = 0
        self.frozen = False

    @property
    def placeholder(self):
        return self.image.placeholder

    def log_path(self, restart=None):
        return os.path.join(self.runner.fs.logs, self.name, "%d.log" % (self.restarts if restart is None else restart))

    def env(self):
        r = self.runner
        pod = r.pod
        kube = r.kubelet
        env = {"PATH": DEFAULT_PATH}
        env.update(self.image.env)
        port = str(kube.srv.port)
        env.update({"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port,
                    "KUBERNETES_SERVICE_PORT_HTTPS": port, "KUBERNETES_PORT": "tcp://127.0.0.1:" + port,
                    "KUBERNETES_PORT_443_TCP": "tcp://127.0.0.1:" + port, "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
                    "KUBERNETES_PORT_443_TCP_PORT": port, "KUBERNETES_PORT_443_TCP_ADDR": "127.0.0.1"})
        ns = pod["metadata"]["namespace"]
        st = kube.store
        for ef in self.spec.get("envFrom") or []:
            prefix = ef.get("prefix", "")
            if ef.get("configMapRef"):
                cm = st.get(st.types[("", "configmaps")], ns, ef["configMapRef"].get("name"))
                if cm is None and not ef["configMapRef"].get("optional"):
                    raise ConfigError('configmap "%s" not found' % ef["configMapRef"].get("name"))
                for k, v in ((cm or {}).get("data") or {}).items():
                    env[prefix + k] = v
            if ef.get("secretRef"):
                s = st.get(st.types[("", "secrets")], ns, ef["secretRef"].get("name"))
                if s is None and not ef["secretRef"].get("optional"):
                    raise ConfigError('secret "%s" not found' % ef["secretRef"].get("name"))
                for k, v in ((s or {}).get("data") or {}).items():
                    env[prefix + k] = base64.b64decode(v).decode(errors="replace")
        for e in self.spec.get("env") or []:
            name = e.get("name")
            if "value" in e:
                env[name] = expand(str(e.get("value") or ""), env)
            elif e.get("valueFrom"):
                vf = e["valueFrom"]
                if vf.get("fieldRef"):
                    env[name] = field_value(pod, vf["fieldRef"].get("fieldPath", ""), self.runner.host_ip)
                elif vf.get("secretKeyRef") or vf.get("configMapKeyRef"):
                    ref = vf.get("secretKeyRef") or vf.get("configMapKeyRef")
                    kind = "secrets" if vf.get("secretKeyRef") else "configmaps"
                    obj = st.get(st.types[("", kind)], ns, ref.get("name"))
                    data = (obj or {}).get("data") or {}
                    if obj is None or ref.get("key") not in data:
                        if ref.get("optional"):
                            continue
                        what = "secret" if kind == "secrets" else "configmap"
                        if obj is None:
                            raise ConfigError('%s "%s" not found' % (what, ref.get("name")))
                        raise ConfigError("couldn't find key %s in %s %s/%s" % (
                            ref.get("key"), what.capitalize() if what == "secret" else "ConfigMap", ns, ref.get("name")))
                    v = data[ref["key"]]
                    if kind == "secrets":
                        v = base64.b64decode(v).decode(errors="replace")
                    env[name] = v
                elif vf.get("resourceFieldRef"):
                    env[name] = "0"
            else:
                env[name] = ""
        env.update({"POD_ROOT": r.fs.root, "POD_IP": r.ip or "", "HOSTNAME": pod["metadata"]["name"],
                    "CONTAINER_IMAGE": self.image_ref, "IMAGE_ROOT": self.image.root or "/"})
        srcbind.container_env(env, r.ip)
        return env

    def argv(self, env):
        command = self.spec.get("command")
        args = self.spec.get("args")
        if command:
            argv = list(command) + list(args or [])
        else:
            argv = list(self.image.entrypoint) + list(args if args is not None else self.image.cmd)
        return [expand(str(a), env) for a in argv]

    def start(self):
        r = self.runner
        self.instance += 1
        self.exit_code = None
        self.ready = False
        self.started = not self.spec.get("startupProbe")
        self.started_at = rfc3339()
        if self.placeholder:
            self.running = True
            self.state = {"running": {"startedAt": self.started_at}}
            events.record(r.kubelet.srv, r.pod, "Normal", "Started", "Started container %s" % self.name, "kubelet",
                          r.node, self.field_path())
            return
        try:
            env = self.env()
        except ConfigError as e:
            self.state = {"waiting": {"reason": "CreateContainerConfigError", "message": str(e)}}
            events.record(r.kubelet.srv, r.pod, "Warning", "Failed", "Error: %s" % e, "kubelet", r.node,
                          self.field_path())
            r.retry_later(self, 2.0)
            return
        argv = self.argv(env)
        prog = resolve_program(self.image, argv[0], env.get("PATH")) if argv else None
        if not argv or prog is None:
            msg = "no command specified" if not argv else \
                'exec: "%s": executable file not found in $PATH' % argv[0]
            self._exited(128, "StartError", msg)
            events.record(r.kubelet.srv, r.pod, "Warning", "Failed", "Error: failed to start container \"%s\": %s"
                          % (self.name, msg), "kubelet", r.node, self.field_path())
            return
        argv = [argv[0]] + map_args(argv[1:], r.fs.root)
        wd = self.spec.get("workingDir") or self.image.workdir
        cwd = r.fs.in_root(wd) if wd and os.path.isdir(r.fs.in_root(wd)) else r.fs.root
        os.makedirs(os.path.dirname(self.log_path()), exist_ok=True)
        out = open(self.log_path(), "ab")
        try:
            self.proc = subprocess.Popen([prog] + argv[1:], executable=prog, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            out.close()
            self._exited(128, "StartError", str(e))
            return
        out.close()
        self.running = True
        self.state = {"running": {"startedAt": self.started_at}}
        _touch(os.path.join(r.kubelet.state_dir, "pgids", str(self.proc.pid)))
        loop = asyncio.get_running_loop()
        try:
            fd = os.pidfd_open(self.proc.pid)
        except (OSError, AttributeError):
            fd = None
        proc = self.proc
        if fd is not None:
            def reaped():
                loop.remove_reader(fd)
                os.close(fd)
                self._reap(proc)
            loop.add_reader(fd, reaped)
        else:
            loop.create_task(self._poll(proc))
        events.record(r.kubelet.srv, r.pod, "Normal", "Started", "Started container %s" % self.name, "kubelet",
                      r.node, self.field_path())

    async def _poll(self, proc):
        while proc.poll() is None:
            await asyncio.sleep(0.2)
        self._reap(proc)

    def _reap(self, proc):
        code = proc.wait()
        try:
            os.unlink(os.path.join(self.runner.kubelet.state_dir, "pgids", str(proc.pid)))
        except FileNotFoundError:
            pass
        # the whole process group goes with the main process, as a container's processes do
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc is not self.proc:
            return
        if code < 0:
            self._exited(128 - code, "Error", None, signal_no=-code)
        else:
            self._exited(code, "Completed" if code == 0 else "Error")

    def _exited(self, code, reason, message=None, signal_no=None):
        self.running = False
        self.ready = False
        self.exit_code = code
        self.proc = None
        term = {"exitCode": code, "reason": reason, "startedAt": self.started_at or rfc3339(),
                "finishedAt": rfc3339(), "containerID": self.container_id()}
        if message:
            term["message"] = message
        if signal_no:
            term["signal"] = signal_no
        self.state = {"terminated": term}
        for t in self.probe_tasks:
            t.cancel()
        self.probe_tasks = []
        self.runner.poke()

    def container_id(self):
        return "kubesim://%s-%s-%d" % (self.runner.uid[:8], self.name, self.instance)

    def field_path(self):
        group = "initContainers" if self.init else "containers"
        return "spec.%s{%s}" % (group, self.name)

    def signal(self, sig):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        elif self.placeholder and self.running and sig in (signal.SIGTERM, signal.SIGKILL):
            self._exited(137 if sig == signal.SIGKILL else 143, "Error", signal_no=sig)

    def signal_process(self, comm, sig):
        """Sends sig to the container's processes named comm (their /proc/PID/comm) alone, as
        `kubectl exec POD -- kill` would: the names signalled."""
        if self.proc is None:
            return []
        hit = []
        for pid in (int(d) for d in os.listdir("/proc") if d.isdigit()):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    stat = f.read()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                pgrp = int(stat[stat.rindex(")") + 2:].split()[2])
                if pgrp == self.proc.pid and name == comm:
                    os.kill(pid, sig)
                    hit.append("%s (%d)" % (name, pid))
            except (OSError, ValueError, IndexError):
                continue
        return hit

    def status(self):
        s = {"name": self.name, "image": self.image_ref, "imageID": "kubesim://" + self.image_ref,
             "ready": self.ready, "restartCount": self.restarts, "started": self.running and self.started,
             "state": self.state, "lastState": self.last_state}
        if self.instance:
            s["containerID"] = self.container_id()
        return s


def _touch(path):
    with open(path, "w"):
        pass


class PodRunner:
    def __init__(self, kubelet, pod):
        self.kubelet = kubelet
        self.pod = pod
        md = pod["metadata"]
        self.uid, self.namespace, self.name = md["uid"], md["namespace"], md["name"]
        self.node = (pod.get("spec") or {}).get("nodeName")   # the node whose kubelet runs the pod
        self.host_ip = kubelet.node_ip(self.node)
        self.fs = PodFS(kubelet, pod)
        self.ip = None
        self.ip_n = None
        spec = pod.get("spec") or {}
        self.inits = [Container(self, c, True) for c in spec.get("initContainers") or []]
        self.containers = [Container(self, c) for c in spec.get("containers") or []]
        self.changed = asyncio.Event()
        self.refresh_volumes = False
        self.setup_done = False
        self.initialized = not self.inits
        self.start_time = None
        self.task = None
        self.netcut = False
        # pods running processes get their own etc/hosts (with their own name); idle ones share the cluster's
        self.own_hosts = any(not c.placeholder for c in self.inits + self.containers)

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self.run())

    def poke(self):
        self.changed.set()

    def retry_later(self, c, delay):
        c.restart_at = asyncio.get_running_loop().time() + delay
        asyncio.get_running_loop().call_later(delay, self.poke)

    def current(self):
        rt = self.kubelet.store.types[("", "pods")]
        p = self.kubelet.store.get(rt, self.namespace, self.name)
        if p is not None and p["metadata"]["uid"] == self.uid:
            self.pod = p
            return p
        return None

    def policy(self):
        return (self.pod.get("spec") or {}).get("restartPolicy", "Always")

    # -- the pod's life -----------------------------------------------------------------------------
    async def run(self):
        try:
            while True:
                away = self.kubelet.away(self.node)
                if away:
                    # the kubelet hears nothing from the API server and posts nothing; on a partitioned node
                    # it still restarts what dies, on a node that is down nothing runs
                    if away == "partition" and self.setup_done:
                        self.step()
                    self.changed.clear()
                    await self.changed.wait()
                    continue
                pod = self.current()
                if pod is None or pod["metadata"].get("deletionTimestamp"):
                    await self.terminate(pod)
                    return
                if not self.setup_done:
                    self.setup(pod)
                elif self.refresh_volumes:
                    self.refresh_volumes = False
                    try:
                        self.fs.mount_all(pod)
                    except Exception as e:
                        log.info("volume refresh of %s/%s: %s", self.namespace, self.name, e)
                if self.setup_done:
                    self.step()
                self.report()
                self.changed.clear()
                try:
                    await asyncio.wait_for(self.changed.wait(), timeout=30)
                except asyncio.TimeoutError:
                    pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pod %s/%s runtime failed", self.namespace, self.name)

    def setup(self, pod):
        try:
            if self.ip is None:
                self.ip_n, self.ip = self.kubelet.alloc_ip()
            self.fs.create(self.own_hosts)
            self.fs.mount_all(pod)
            if self.own_hosts:
                self.kubelet.write_hosts()
        except Exception as e:
            events.record(self.kubelet.srv, pod, "Warning", "FailedMount", "MountVolume.SetUp failed: %s" % e,
                          "kubelet", self.node)
            asyncio.get_running_loop().call_later(2.0, self.poke)
            return
        self.setup_done = True
        self.start_time = self.start_time or rfc3339()

    def step(self):
        """Start what should run now; restart what died, as the restart policy says."""
        if self.kubelet.stopping:
            return
        loop_time = asyncio.get_running_loop().time()
        if not self.initialized:
            for c in self.inits:
                if c.exit_code == 0 and not c.running:
                    continue
                if c.running or (c.restart_at and c.restart_at > loop_time):
                    return
                if c.exit_code is not None:
                    if self.policy() == "Never":
                        return
                    self.schedule_restart(c)
                    if c.restart_at and c.restart_at > loop_time:
                        return
                self.launch(c)
                return
            self.initialized = True
        for c in self.containers:
            if c.running or (c.restart_at and c.restart_at > loop_time):
                continue
            if c.exit_code is None and c.instance == 0:
                self.launch(c)
                continue
            if c.exit_code is None:
                if c.state.get("waiting", {}).get("reason") == "CreateContainerConfigError":
                    self.launch(c)
                continue
            pol = self.policy()
            if pol == "Never" or (pol == "OnFailure" and c.exit_code == 0):
                continue
            self.schedule_restart(c)
            if not (c.restart_at and c.restart_at > loop_time):
                self.launch(c)

    def schedule_restart(self, c):
        """Crash back-off: the first restart is immediate, then base, 2x base ... up to 300 s."""
        if c.restart_at is not None:
            return
        delay = 0 if c.restarts == 0 else min(self.kubelet.backoff_base * (2 ** (c.restarts - 1)), 300)
        if delay:
            c.state = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off %ds restarting failed container=%s pod=%s_%s(%s)"
                                   % (delay, c.name, self.name, self.namespace, self.uid)}}
            events.record(self.kubelet.srv, self.pod, "Warning", "BackOff", "Back-off restarting failed container %s in "
                          "pod %s_%s(%s)" % (c.name, self.name, self.namespace, self.uid), "kubelet", self.node,
                          c.field_path())
            self.retry_later(c, delay)

    def launch(self, c):
        if c.exit_code is not None or c.state.get("terminated"):
            c.last_state = {"terminated": c.state.get("terminated")} if c.state.get("terminated") else c.last_state
            if c.instance:
                c.restarts += 1
        c.restart_at = None
        if c.instance == 0:
            events.record(self.kubelet.srv, self.pod, "Normal", "Pulled", 'Container image "%s" already present on '
                          'machine' % c.image_ref, "kubelet", self.node, c.field_path())
        events.record(self.kubelet.srv, self.pod, "Normal", "Created", "Created container: %s" % c.name, "kubelet",
                      self.node, c.field_path())
        c.start()
        if c.running and not c.init:
            loop = asyncio.get_running_loop()
            c.ready = not c.spec.get("readinessProbe") and c.started
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                if c.spec.get(kind):
                    c.probe_tasks.append(loop.create_task(self.probe_loop(c, kind, c.spec[kind], c.instance)))

    async def probe_loop(self, c, kind, probe, instance):
        period = max(int(probe.get("periodSeconds", 10) or 10), 1)
        fail_th = max(int(probe.get("failureThreshold", 3) or 3), 1)
        ok_th = max(int(probe.get("successThreshold", 1) or 1), 1)
        await asyncio.sleep(max(int(probe.get("initialDelaySeconds", 0) or 0), 0))
        fails = oks = 0
        label = {"startupProbe": "Startup", "readinessProbe": "Readiness", "livenessProbe": "Liveness"}[kind]
        while c.running and c.instance == instance:
            if kind != "startupProbe" and not c.started:
                await asyncio.sleep(0.2)
                continue
            if c.frozen:
                ok, msg = False, "probe timed out"
            else:
                ok, msg = await run_probe(self, c, probe)
            if not c.running or c.instance != instance:
                return
            if ok:
                oks, fails = oks + 1, 0
                if kind == "readinessProbe" and oks >= ok_th and not c.ready:
                    c.ready = True
                    self.poke()
                if kind == "startupProbe":
                    c.started = True
                    c.ready = c.ready or not c.spec.get("readinessProbe")
                    self.poke()
                    return
            else:
                oks, fails = 0, fails + 1
                events.record(self.kubelet.srv, self.pod, "Warning", "Unhealthy", "%s probe failed: %s" % (
                    label, msg.strip()), "kubelet", self.node, c.field_path())
                if kind == "readinessProbe" and fails >= fail_th and c.ready:
                    c.ready = False
                    self.poke()
                if kind in ("livenessProbe", "startupProbe") and fails >= fail_th:
                    events.record(self.kubelet.srv, self.pod, "Normal", "Killing", "Container %s failed %s probe, "
                                  "will be restarted" % (c.name, label.lower()), "kubelet", self.node,
                                  c.field_path())
                    await self.stop_container(c, int((self.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)))
                    return
            await asyncio.sleep(period)

    async def stop_container(self, c, grace):
        c.signal(signal.SIGTERM)
        if c.proc is not None:
            c.signal(signal.SIGCONT)
        deadline = asyncio.get_running_loop().time() + grace
        while c.running and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        if c.running:
            c.signal(signal.SIGKILL)
            c.signal(signal.SIGCONT)
        while c.running and c.proc is not None:
            await asyncio.sleep(0.05)

    async def kill_all(self, grace):
        await asyncio.gather(*(self.stop_container(c, grace) for c in self.inits + self.containers if c.running))

    async def terminate(self, pod):
        if pod is not None:
            # the kubelet counts the grace period from when it sees the deletion, as the real one does
            grace = pod["metadata"].get("deletionGracePeriodSeconds")
            if grace is None:
                dt = parse_time(pod["metadata"].get("deletionTimestamp"))
                grace = max((dt - now()).total_seconds(), 0) if dt else 0
            for c in self.containers + self.inits:
                if c.running:
                    events.record(self.kubelet.srv, pod, "Normal", "Killing", "Stopping container %s" % c.name,
                                  "kubelet", self.node, c.field_path())
            await self.kill_all(grace)
            rt = self.kubelet.store.types[("", "pods")]
            cur = self.current()
            if cur is not None:
                try:
                    self.kubelet.registry.delete(rt, self.namespace, self.name,
                                                 {"gracePeriodSeconds": 0, "preconditions": {"uid": self.uid}})
                except Exception as e:
                    log.info("final delete of %s/%s: %s", self.namespace, self.name, e)
        else:
            await self.kill_all(0)
        if self.current() is not None:
            # finalizers hold it: keep the address until it is really gone
            while self.current() is not None:
                self.changed.clear()
                await self.changed.wait()
        self.fs.remove()
        if self.uid in self.kubelet.srv.faults.cut:
            self.kubelet.srv.faults.cut.pop(self.uid)
            self.kubelet.srv.faults._route("del", self.ip)
        if self.ip_n is not None:
            self.kubelet.release_ip(self.ip_n)
        self.kubelet.forget(self)

    # -- status -------------------------------------------------------------------------------------
    def report(self):
        pod = self.current()
        if pod is None:
            return
        old = pod.get("status") or {}
        t = rfc3339()
        prev = {c.get("type"): c for c in old.get("conditions") or []}

        def cond(typ, ok, reason=None):
            st = "True" if ok else "False"
            c = {"type": typ, "status": st, "lastProbeTime": None,
                 "lastTransitionTime": prev[typ]["lastTransitionTime"] if typ in prev and prev[typ].get("status") == st
                 else t}
            if reason and not ok:
                c["reason"] = reason
            return c

        all_ready = bool(self.containers) and all(c.ready for c in self.containers)
        phase = "Pending"
        running = [c for c in self.containers if c.running]
        if self.initialized and self.containers and all(c.instance for c in self.containers):
            phase = "Running"
            if not running and all(c.exit_code is not None for c in self.containers):
                pol = self.policy()
                codes = [c.exit_code for c in self.containers]
                if pol == "Never" or (pol == "OnFailure" and all(x == 0 for x in codes)):
                    phase = "Succeeded" if all(x == 0 for x in codes) else "Failed"
        if not self.initialized and self.policy() == "Never" and any(c.exit_code not in (None, 0) for c in self.inits):
            phase = "Failed"
        status = {"phase": phase,
                  "conditions": [cond("PodReadyToStartContainers", self.setup_done),
                                 cond("Initialized", self.initialized, "ContainersNotInitialized"),
                                 cond("Ready", all_ready, "ContainersNotReady"),
                                 cond("ContainersReady", all_ready, "ContainersNotReady"),
                                 cond("PodScheduled", True)],
                  "hostIP": self.host_ip, "hostIPs": [{"ip": self.host_ip}], "qosClass": old.get("qosClass", "BestEffort")}
        if self.ip:
            status["podIP"] = self.ip
            status["podIPs"] = [{"ip": self.ip}]
        if self.start_time:
            status["startTime"] = self.start_time
        if self.inits:
            status["initContainerStatuses"] = [c.status() for c in self.inits]
        status["containerStatuses"] = [c.status() for c in self.containers]
        rt = self.kubelet.store.types[("", "pods")]
        self.kubelet.registry.set_status(rt, pod, status)
