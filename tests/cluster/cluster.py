"""Several hosts on one machine: Linux network namespaces joined by veth pairs to a bridge.

A Cluster owns everything it makes: the namespaces (one per host, plus a "switch" namespace that
holds the bridge, so the machine's own network is never touched), the processes it starts in
them (each stopped by its PID), and a work folder of configurations and logs. Leaving the `with`
block, or any failure inside it, stops every process and deletes every namespace, which removes
the veth pairs and the bridge with them.

Hosts get 10.77.0.<n>/24. Processes are started with `ip netns exec NS ...`, which execs the
command in place, so the PID Popen returns is the command's own.

Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN). Not thread-safe: one thread drives a cluster.
"""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

SUBNET_PREFIX = "10.77.0."
GRPC_PORT = 8001
HTTP_PORT = 8000
METRICS_PORT = 8002
BALANCER_PORT = 8001
PROMETHEUS_PORT = 9090
_NAME_PATTERN = re.compile(r"^sonic(\d+)-")


def sh(*args, check=True, capture=False, timeout=60):
    """Runs a command; raises on a non-zero status when `check`."""
    result = subprocess.run(list(args), check=False, timeout=timeout, text=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout if capture else result.returncode


def namespaces_permitted():
    """'' when this process may make network namespaces, else why not."""
    if os.geteuid() != 0:
        return "the cluster tests need root (network namespaces, veth pairs, tc)"
    probe = f"sonic{os.getpid()}-probe"
    try:
        sh("ip", "netns", "add", probe)
        sh("ip", "netns", "del", probe)
    except (RuntimeError, FileNotFoundError) as error:
        return f"`ip netns add` is not permitted here: {error}"
    return ""


def remove_stale_namespaces():
    """Deletes namespaces, and stops the processes in them, left by an earlier cluster whose
    process no longer exists (killed with SIGKILL)."""
    listing = sh("ip", "netns", "list", capture=True)
    for line in listing.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _NAME_PATTERN.match(name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            # Processes that cluster started, left running when it was killed.
            for pid in sh("ip", "netns", "pids", name, check=False, capture=True).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh("ip", "netns", "del", name, check=False)


class Host:
    """One namespace on the bridge, with its address and its end of the veth pair."""

    def __init__(self, cluster, role, index):
        self.role = role
        self.index = index
        self.ns = f"{cluster.tag}-{role}"
        self.ip = SUBNET_PREFIX + str(index)
        # Interface names are at most 15 characters.
        self.inner_if = f"eth{index}"
        self.outer_if = f"sv{os.getpid() % 100000}x{cluster.number % 100}x{index}"
        self.cluster = cluster

    def exec_args(self, argv):
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def run(self, argv, timeout=60):
        return sh(*self.exec_args(argv), capture=True, timeout=timeout)

    def http_get(self, url, timeout=5):
        """(status, body) of a GET from this host; status 0 when the connection failed."""
        out = subprocess.run(self.exec_args(
            ["curl", "-s", "-m", str(timeout), "-w", "\n%{http_code}", url]),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=timeout + 5)
        body, _, code = out.stdout.rpartition("\n")
        return int(code or 0), body


class Cluster:
    """The namespaces, processes and files of one cluster run (see the module's comment)."""

    _count = 0  # clusters made by this process, so that their names differ

    def __init__(self, build_dir, keep_logs_in=None):
        self.build_dir = Path(build_dir)
        self.work = Path(tempfile.mkdtemp(prefix="sonic-cluster-"))
        self.keep_logs_in = keep_logs_in
        Cluster._count += 1
        self.number = Cluster._count
        self.tag = f"sonic{os.getpid()}-{self.number}"
        self.switch_ns = f"{self.tag}-switch"
        self._opened = False
        self.hosts = {}
        self.processes = []  # (name, Popen)
        self._next_index = 10

    # ---- topology -------------------------------------------------------------------------
    def __enter__(self):
        return self.open()

    def open(self):
        """Makes the switch namespace and its bridge (once; a second call does nothing)."""
        if self._opened:
            return self
        self._opened = True
        remove_stale_namespaces()
        try:
            sh("ip", "netns", "add", self.switch_ns)
            self._in_switch("ip", "link", "add", "br0", "type", "bridge")
            self._in_switch("ip", "link", "set", "br0", "up")
            self._in_switch("ip", "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _in_switch(self, *argv):
        sh("ip", "netns", "exec", self.switch_ns, *argv)

    def add_host(self, role):
        """A new namespace on the bridge; `role` names it (unique)."""
        host = Host(self, role, self._next_index)
        self._next_index += 1
        sh("ip", "netns", "add", host.ns)
        self.hosts[role] = host
        sh("ip", "link", "add", host.outer_if, "type", "veth", "peer", "name", host.inner_if)
        sh("ip", "link", "set", host.outer_if, "netns", self.switch_ns)
        sh("ip", "link", "set", host.inner_if, "netns", host.ns)
        self._in_switch("ip", "link", "set", host.outer_if, "master", "br0")
        self._in_switch("ip", "link", "set", host.outer_if, "up")
        host.run(["ip", "addr", "add", host.ip + "/24", "dev", host.inner_if])
        host.run(["ip", "link", "set", host.inner_if, "up"])
        host.run(["ip", "link", "set", "lo", "up"])
        return host

    def netem_available(self):
        """Whether the kernel has tc netem (sch_netem): tried on the switch's loopback."""
        added = sh("ip", "netns", "exec", self.switch_ns, "tc", "qdisc", "add", "dev", "lo",
                   "root", "netem", "delay", "1ms", check=False) == 0
        if added:
            self._in_switch("tc", "qdisc", "del", "dev", "lo", "root")
        return added

    def set_delay(self, host, one_way_ms):
        """tc netem: `one_way_ms` each way on the host's link, so its RTT to every other host
        grows by twice that. 0 removes the delay."""
        for ns, dev in ((host.ns, host.inner_if), (self.switch_ns, host.outer_if)):
            sh("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root", check=False)
            if one_way_ms > 0:
                sh("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "netem",
                   "delay", f"{one_way_ms}ms", "limit", "100000")

    # ---- processes ------------------------------------------------------------------------
    def start(self, host, name, argv, env=None):
        """Starts `argv` on `host`; stdout and stderr go to <work>/<name>.log."""
        log = open(self.work / f"{name}.log", "wb")
        process = subprocess.Popen(host.exec_args(argv), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        log.close()
        self.processes.append((name, process))
        return process

    def stop(self, process, sig=signal.SIGTERM, grace=10):
        """Stops one process by its PID: `sig`, then SIGKILL after `grace` seconds."""
        if process.poll() is None:
            os.kill(process.pid, sig)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()

    def log_text(self, name):
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self):
        """Stops every process (by PID), deletes every namespace, keeps or drops the logs."""
        for _, process in reversed(self.processes):
            try:
                self.stop(process, grace=5)
            except ProcessLookupError:
                pass
        for host in self.hosts.values():
            sh("ip", "netns", "del", host.ns, check=False)
        sh("ip", "netns", "del", self.switch_ns, check=False)
        self.hosts = {}
        if self.keep_logs_in:
            Path(self.keep_logs_in).mkdir(parents=True, exist_ok=True)
            for log in self.work.glob("*.log"):
                (Path(self.keep_logs_in) / log.name).write_bytes(log.read_bytes())
        subprocess.run(["rm", "-rf", str(self.work)], check=False)

    # ---- the parts --------------------------------------------------------------------------
    def start_server(self, host, models, extra=()):
        """sonic-server on `host` serving `models`; returns its Popen."""
        argv = [str(self.build_dir / "bin/sonic-server"), "--model-repository", str(models),
                "--grpc-port", str(GRPC_PORT), "--http-port", str(HTTP_PORT),
                "--metrics-port", str(METRICS_PORT), "--id", host.role, *extra]
        return self.start(host, host.role, argv)

    def wait_ready(self, host, process, timeout=120):
        """Waits for the server's /v2/health/ready; raises if it exits or stays unready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{host.role} exited: {self.log_text(host.role)[-2000:]}")
            status, _ = host.http_get(f"http://{host.ip}:{HTTP_PORT}/v2/health/ready", timeout=2)
            if status == 200:
                return
            time.sleep(0.3)
        raise RuntimeError(f"{host.role} not ready within {timeout} s")

    def metrics(self, host):
        """The server's Prometheus text metrics as {(name, frozenset(labels)): value}."""
        status, body = host.http_get(f"http://{host.ip}:{METRICS_PORT}/metrics")
        if status != 200:
            return {}
        values = {}
        for line in body.splitlines():
            match = re.match(r"^(\w+)(?:\{(.*)\})?\s+(\S+)$", line)
            if not match or line.startswith("#"):
                continue
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            values[(match.group(1), labels)] = float(match.group(3))
        return values

    def metric_sum(self, host, name):
        return sum(v for (n, _), v in self.metrics(host).items() if n == name)


def haproxy_server_line(name, ip):
    """A server of the backend: gRPC over HTTP/2 cleartext, checked over HTTP/1.1 on the
    server's HTTP port (GET /v2/health/ready must answer 200), every 300 ms, 2 failures to go
    down, 2 successes to come up."""
    return (f"{name} {ip}:{GRPC_PORT} proto h2 check check-proto h1 port {HTTP_PORT} "
            "inter 300ms fall 2 rise 2")


# The gRPC calls a client starts with (TritonService's discovery, tritonclient's readiness
# check): the ones a saturated site refuses to new clients.
CLIENT_START_PATHS = ("/inference.GRPCInferenceService/ServerReady",
                      "/inference.GRPCInferenceService/RepositoryIndex")
# The calls that make a client known: its admitted start, and inference.
INFERENCE_PATHS = ("/inference.GRPCInferenceService/ModelInfer",
                   "/inference.GRPCInferenceService/ModelStreamInfer")
SATURATION_BACKEND = "fleet_saturated"
SATURATION_SERVER = "queue_time_over_threshold"


def fleet_queue_query(threshold_us, window):
    """PromQL: the fleet's queue time per request over `window`, present only while it exceeds
    `threshold_us` (the signal KEDA scales on, deploy/kubernetes)."""
    return (f"sum(rate(nv_inference_queue_duration_us[{window}])) / "
            f"sum(rate(nv_inference_request_success[{window}])) > {threshold_us}")


def admission_frontend_lines():
    """The frontend's rule refusing new clients while the fleet is saturated: a client is its
    source address, known once one of its client starts (CLIENT_START_PATHS) or inference
    requests passed (stick table `clients`, forgotten after 10 minutes without requests; other
    calls, such as the ServerLive a discovery sends first, neither count nor are refused); while
    the saturation backend has a server UP, a client start from an unknown address is answered
    UNAVAILABLE (gRPC status 14 in a trailers-only response) and forwarded nowhere. Everything
    else passes, so running jobs, their periodic discovery included, are never cut off."""
    return [
        f"  acl client_start path {' '.join(CLIENT_START_PATHS)}",
        f"  acl inference path {' '.join(INFERENCE_PATHS)}",
        f"  acl fleet_saturated nbsrv({SATURATION_BACKEND}) gt 0",
        "  http-request track-sc0 src table clients",
        # HAProxy's replies carry no content-type without a body; gRPC clients take the
        # status from the headers regardless.
        "  http-request return status 200 hdr grpc-status 14 "
        "hdr grpc-message \"the site's servers are saturated (queue time over its threshold): "
        "new clients are refused, retry later or elsewhere\" "
        "if client_start fleet_saturated !{ sc0_get_gpc0 gt 0 }",
        "  http-request sc-inc-gpc0(0) if client_start || inference",
    ]


def admission_backend_lines(prometheus_address, threshold_us, window="5s", inter="500ms"):
    """The saturation signal: a backend that takes no traffic, whose one server's HTTP check
    asks Prometheus for the fleet's queue time over the threshold and passes (UP = saturated)
    only when the answer holds a sample. An unreachable or failing Prometheus reads as not
    saturated: the balancer then admits everyone, as without the rule."""
    query = urllib.parse.quote(fleet_queue_query(threshold_us, window), safe="")
    return [
        "backend clients",
        "  stick-table type ip size 100k expire 10m store gpc0",
        f"backend {SATURATION_BACKEND}",
        "  option httpchk",
        f"  http-check send meth GET uri /api/v1/query?query={query}",
        "  http-check expect string '\"result\":[{'",
        f"  server {SATURATION_SERVER} {prometheus_address} check inter {inter} fall 1 rise 1",
    ]


def haproxy_config(servers, stats_socket, admission=None):
    """HAProxy 2.6: gRPC (HTTP/2 cleartext) in and out, least-requests balancing (leastconn
    counts the streams each server is serving, which over HTTP/2 are requests), active HTTP
    checks of each server's /v2/health/ready. More servers join at run time through the
    runtime API (haproxy_add_server). `admission`: {"prometheus": "IP:PORT", "threshold_us": N}
    adds the rule refusing new clients while the fleet's queue time is over the threshold."""
    lines = [
        "global",
        f"  stats socket {stats_socket} mode 600 level admin",
        "  maxconn 4000",
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 10m",
        "  timeout server 10m",
        "  retries 3",
        "  option redispatch 1",
        "frontend grpc",
        f"  bind *:{BALANCER_PORT} proto h2",
        *(admission_frontend_lines() if admission else []),
        "  default_backend servers",
        "backend servers",
        "  balance leastconn",
        "  option httpchk",
        "  http-check send meth GET uri /v2/health/ready",
        "  http-check expect status 200",
    ]
    lines += [f"  server {haproxy_server_line(name, ip)}" for name, ip in servers]
    if admission:
        lines += admission_backend_lines(admission["prometheus"], admission["threshold_us"])
    return "\n".join(lines) + "\n"


def nginx_config(servers, prefix):
    """nginx 1.22 grpc_pass with least_conn (active requests per worker). Open-source nginx has
    no active health checks: a dead server is found by failing requests (max_fails)."""
    upstream = "\n".join(f"    server {ip}:{GRPC_PORT} max_fails=1 fail_timeout=5s;"
                         for _, ip in servers)
    return f"""worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  client_max_body_size 0;
  upstream servers {{
    least_conn;
{upstream}
    keepalive 64;
  }}
  server {{
    listen {BALANCER_PORT} http2;
    location / {{
      grpc_pass grpc://servers;
      grpc_read_timeout 600s;
      grpc_send_timeout 600s;
    }}
  }}
}}
"""


def haproxy_command(stats_socket, command):
    """A runtime API command on HAProxy's stats socket (reachable from any namespace: a Unix
    socket is a file)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        conn.connect(str(stats_socket))
        conn.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            data = conn.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode()


def haproxy_add_server(stats_socket, name, ip):
    """Adds a server to the running balancer (runtime API); it takes requests once its health
    checks pass."""
    for command in (f"add server servers/{haproxy_server_line(name, ip)}",
                    f"enable health servers/{name}", f"enable server servers/{name}"):
        answer = haproxy_command(stats_socket, command).strip()
        if answer and not answer.startswith("New server registered"):
            raise RuntimeError(f"HAProxy '{command}': {answer}")


def haproxy_server_states(stats_socket, backend="servers"):
    """{server name: status} of `backend`, from `show stat` (UP, DOWN, ...)."""
    text = haproxy_command(stats_socket, "show stat")
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    return {row[1]: row[17] for row in rows
            if len(row) > 17 and row[0] == backend and row[1] not in ("BACKEND", "FRONTEND")}


def prometheus_config(targets):
    targets_text = ", ".join(f"'{ip}:{METRICS_PORT}'" for _, ip in targets)
    return f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sonic-server
    static_configs:
      - targets: [{targets_text}]
"""


def prometheus_query(host, expression):
    """The instant vector of `expression` as {instance: value}, asked of Prometheus on `host`."""
    url = (f"http://{host.ip}:{PROMETHEUS_PORT}/api/v1/query?query="
           + urllib.parse.quote(expression))
    status, body = host.http_get(url)
    if status != 200:
        raise RuntimeError(f"Prometheus query {expression!r}: HTTP {status} {body[:200]}")
    result = json.loads(body)["data"]["result"]
    return {item["metric"].get("instance", ""): float(item["value"][1]) for item in result}
