"""One SONIC site built on a Cluster: sonic-server hosts behind a load balancer host, a
Prometheus host scraping every server, and client-job hosts running the demonstrator
(`sonic run`) with SONIC_SERVER_ADDRESS set to the balancer.

Not thread-safe: one thread drives a site.
"""

import json
import os
import signal
import sys
import time
from pathlib import Path

import cluster as cl

# The demonstrator job of the cluster tests: configs/ttbar.yaml's modules with a lighter
# reconstruction stand-in (the jobs share the machine's cores with the servers), Async clients,
# retries through the balancer (the only server the job knows), no local fallback (a job must
# not quietly serve itself), no shared memory (the servers are other hosts).
JOB_TEMPLATE = """source: {{events: {events}, seed: {seed}}}
threads: {threads}
concurrent_events: {concurrent_events}
mode: sonic
models: {models}
client: {{mode: Async, allowed_tries: 8, shared_memory: off}}
service:
  retry_policy: same_server
  fallback: {{enabled: false}}
modules:
  - {{type: pf_isolation, label: reconstruction, cones: {cones}}}
  - {{type: particlenet, label: particlenet, model: particlenet_ragged, jets: ak4}}
  - {{type: deeptau, label: deeptau}}
  - {{type: deepmet, label: deepmet}}
"""

VALIDATION_TOLERANCE = "1e-4"


class Site:
    """Servers s1..sN (+ spare slots), balancer `lb` (haproxy | nginx), `prometheus`, jobs.
    `admission_threshold_us`: HAProxy refuses new clients while the fleet's queue time per
    request, as Prometheus reports it, is over this (cluster.admission_frontend_lines)."""

    def __init__(self, cluster, models, servers=3, spare=0, balancer="haproxy", jobs=2,
                 prometheus=True, admission_threshold_us=None):
        self.cluster = cluster
        self.models = Path(models)
        self.balancer_kind = balancer
        self.admission_threshold_us = admission_threshold_us
        self.servers = {}  # name -> (host, Popen or None)
        for i in range(1, servers + spare + 1):
            self.servers[f"s{i}"] = [cluster.add_host(f"s{i}"), None]
        self.active = [f"s{i}" for i in range(1, servers + 1)]
        self.spare = [f"s{i}" for i in range(servers + 1, servers + spare + 1)]
        self.lb = cluster.add_host("lb")
        self.prom = cluster.add_host("prometheus") if prometheus else None
        self.jobs = [cluster.add_host(f"job{i}") for i in range(1, jobs + 1)]
        self.stats_socket = cluster.work / "haproxy.sock"
        self.balancer = None
        self.job_address = f"{self.lb.ip}:{cl.BALANCER_PORT}"  # where the jobs send requests
        self.relay = None

    def start(self):
        """Starts the active servers, waits for them, then the balancer and Prometheus."""
        for name in self.active:
            self.start_server(name, wait=False)
        for name in self.active:
            host, process = self.servers[name]
            self.cluster.wait_ready(host, process)
        self._start_balancer()
        if self.prom:
            self._start_prometheus()
        return self

    def start_server(self, name, wait=True):
        host = self.servers[name][0]
        process = self.cluster.start_server(host, self.models)
        self.servers[name][1] = process
        if wait:
            self.cluster.wait_ready(host, process)
        return process

    def add_to_balancer(self, name):
        """A started server joins the HAProxy backend; returns when its checks pass."""
        cl.haproxy_add_server(self.stats_socket, name, self.servers[name][0].ip)
        self.active.append(name)
        return self.wait_states({name: "UP"})

    def kill_server(self, name):
        """SIGKILL: the server dies with requests in flight, as a crashed node."""
        self.cluster.stop(self.servers[name][1], sig=signal.SIGKILL)

    def _server_list(self, names):
        return [(name, self.servers[name][0].ip) for name in names]

    def _start_balancer(self):
        work = self.cluster.work
        if self.balancer_kind == "haproxy":
            config = work / "haproxy.cfg"
            admission = None
            if self.admission_threshold_us is not None:
                admission = {"prometheus": f"{self.prom.ip}:{cl.PROMETHEUS_PORT}",
                             "threshold_us": self.admission_threshold_us}
            config.write_text(cl.haproxy_config(self._server_list(self.active), self.stats_socket,
                                                admission))
            argv = ["haproxy", "-db", "-f", str(config)]
        else:
            prefix = work / "nginx"
            (prefix / "body").mkdir(parents=True, exist_ok=True)
            config = prefix / "nginx.conf"
            config.write_text(cl.nginx_config(self._server_list(self.active), prefix))
            argv = ["nginx", "-p", str(prefix), "-c", str(config)]
        self.balancer = self.cluster.start(self.lb, self.balancer_kind, argv)
        self._wait_port(self.lb, cl.BALANCER_PORT, self.balancer, self.balancer_kind)
        if self.balancer_kind == "haproxy":
            self.wait_states({name: "UP" for name in self.active})

    def _wait_port(self, host, port, process, log_name, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{log_name} on {host.role} exited: "
                                   f"{self.cluster.log_text(log_name)[-2000:]}")
            status = host.run(["sh", "-c", f"ss -ltn 'sport = :{port}' | tail -n +2 | wc -l"])
            if int(status.strip() or 0) > 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"nothing listens on {host.ip}:{port} after {timeout} s")

    def wait_states(self, wanted, timeout=30, backend="servers"):
        """Waits until HAProxy's checks show each named server of `backend` in the wanted
        state; returns the seconds it took."""
        start = time.monotonic()
        while True:
            states = cl.haproxy_server_states(self.stats_socket, backend)
            if all(states.get(name, "").startswith(state) for name, state in wanted.items()):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"HAProxy states {states}, wanted {wanted}")
            time.sleep(0.05)

    def _start_prometheus(self):
        work = self.cluster.work
        config = work / "prometheus.yml"
        config.write_text(cl.prometheus_config(self._server_list(self.active + self.spare)))
        argv = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=:{cl.PROMETHEUS_PORT}", "--log.level=warn"]
        process = self.cluster.start(self.prom, "prometheus", argv)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("prometheus exited: "
                                   + self.cluster.log_text("prometheus")[-2000:])
            status, _ = self.prom.http_get(
                f"http://{self.prom.ip}:{cl.PROMETHEUS_PORT}/-/ready", timeout=2)
            if status == 200:
                return
            time.sleep(0.3)
        raise RuntimeError("prometheus not ready within 60 s")

    def prometheus_requests(self):
        """Requests each server has answered, as Prometheus scraped them: {server: count}."""
        by_instance = cl.prometheus_query(
            self.prom, "sum by (instance) (nv_inference_request_success)")
        by_ip = {instance.split(":")[0]: value for instance, value in by_instance.items()}
        return {name: by_ip.get(host.ip, 0.0) for name, (host, _) in self.servers.items()}

    def server_requests(self):
        """Requests each server has answered, read from its own metrics endpoint."""
        return {name: self.cluster.metric_sum(host, "nv_inference_request_success")
                for name, (host, process) in self.servers.items()
                if process is not None and process.poll() is None}

    def set_remote_delay(self, rtt_ms):
        """Puts the job hosts `rtt_ms` of round trip away from the balancer and servers: tc
        netem on each job host's link where the kernel has it, else a delay relay (TCP,
        delay_relay.py) on a "wan" host the jobs send to (at 0 ms too). Returns the method
        used."""
        if self.cluster.netem_available():
            for job in self.jobs:
                self.cluster.set_delay(job, rtt_ms / 2)
            return "tc netem on the job hosts' links"
        if self.relay is not None:
            self.cluster.stop(self.relay)
            self.relay = None
        # The relay runs at 0 ms too, so that the local case pays the relay's CPU time as the
        # remote ones do and only the delay differs.
        wan = self.cluster.hosts.get("wan") or self.cluster.add_host("wan")
        relay = Path(__file__).with_name("delay_relay.py")
        balancer = f"{self.lb.ip}:{cl.BALANCER_PORT}"
        self.relay = self.cluster.start(
            wan, f"relay-{rtt_ms}",
            [sys.executable, str(relay), f"{wan.ip}:{cl.BALANCER_PORT}", balancer, str(rtt_ms / 2)])
        self._wait_port(wan, cl.BALANCER_PORT, self.relay, f"relay-{rtt_ms}")
        self.job_address = f"{wan.ip}:{cl.BALANCER_PORT}"
        return "delay relay (the kernel has no sch_netem for tc netem)"

    # ---- jobs -----------------------------------------------------------------------------
    def start_job(self, host, name, events, threads=1, concurrent_events=8, cones=5, seed=None,
                  validate=False):
        """`sonic run` on `host` through the balancer; returns (Popen, report path)."""
        work = self.cluster.work
        config = work / f"{name}.yaml"
        config.write_text(JOB_TEMPLATE.format(
            events=events, seed=seed if seed is not None else 1000 + host.index, threads=threads,
            concurrent_events=concurrent_events, models=self.models, cones=cones))
        report = work / f"{name}.json"
        argv = [str(self.cluster.build_dir / "bin/sonic"), "run", str(config), "--mode", "sonic",
                "--report", str(report)]
        if validate:
            # DeepMET's MET is a float32 sum (index_add_) over ~1000 weighted candidates, the
            # weights from matrix products over the whole batch, whose rounding depends on
            # which events a server batched together; behind the balancer it differed from
            # direct inference by 1.24e-5 (relative) in one run of twelve, where the default
            # tolerance is 1e-5. The other outputs stay below 1e-6.
            argv += ["--validate", "--tolerance", VALIDATION_TOLERANCE]
        env = dict(os.environ, SONIC_SERVER_ADDRESS=self.job_address)
        return self.cluster.start(host, name, argv, env=env), report

    def finish_job(self, name, process, report, timeout=600):
        """Waits for a job; returns its report (dict) and exit status."""
        status = process.wait(timeout=timeout)
        if not report.exists():
            raise RuntimeError(f"{name} wrote no report (exit {status}): "
                               + self.cluster.log_text(name)[-3000:])
        result = json.loads(report.read_text())
        if status != 0:
            result["log_tail"] = self.cluster.log_text(name)[-3000:]
        return result, status

    def run_jobs(self, count, **job_args):
        """`count` jobs at once, one per job host (round robin); returns [(report, status)]."""
        started = []
        for i in range(count):
            host = self.jobs[i % len(self.jobs)]
            name = f"job-{time.monotonic_ns()}-{i}"
            started.append((name,) + self.start_job(host, name, **job_args))
        return [self.finish_job(*item) for item in started]


def job_summary(report, status):
    """The figures of one job's report the scenarios record and check."""
    activity = report.get("server_activity", [])
    return {
        "exit_status": status,
        "events": report["events"],
        "events_per_second": report["events_per_second"],
        "wall_seconds": report.get("wall_seconds"),
        "calls": sum(s["calls"] for s in activity),
        "failures": sum(s["failures"] for s in activity),
        "retries": sum(s["retries"] for s in activity),
        "full_queue_refusals": sum(s.get("full_queue_refusals", 0) for s in activity),
        "seconds_lost_to_failed_requests": sum(s.get("seconds_lost", 0.0) for s in activity),
        "validation_passed": report.get("validation", {}).get("passed"),
        **({"log_tail": report["log_tail"]} if "log_tail" in report else {}),
    }
