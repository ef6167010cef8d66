"""HAProxy's rule refusing new clients while the fleet is saturated (cluster.py
admission_frontend_lines / admission_backend_lines), on this machine's loopback: no namespaces
and no root, so it runs in `make test`. A sonic-server with a slow model, Prometheus scraping it
every 500 ms, HAProxy in front with the rule. Load sent straight to the server (around the
balancer, so the balancer has not met the test's address) saturates it; then a new client's
ServerReady and RepositoryIndex through the balancer are refused with UNAVAILABLE while its
ServerLive and inference pass, and after its inference the address is known and admitted; once the load stops and the
fleet's queue time falls, a new client is admitted again. No timing is asserted.

Run by CTest with --noconftest: the cluster scenarios' fixtures (root, namespaces) do not apply.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import grpc
import numpy as np
import pytest
from tritonclient.grpc import service_pb2, service_pb2_grpc

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stock_clients"))
import cluster as cl  # noqa: E402
import sonic_server  # noqa: E402

# Over this fleet queue time per request (us) the site is saturated; the model's 12 requests
# in flight wait ~11 x 25 ms each, far above it.
THRESHOLD_US = 50000
LOAD_THREADS = 12

SLOW_MODEL = """name: "slow"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
parameters { key: "execute_delay_ms" value { string_value: "25" } }
"""


def free_port():
    """A port free now for a process that must be told its port (Prometheus, HAProxy), drawn
    below the kernel's ephemeral range: a port picked by bind-and-close inside that range may be
    handed meanwhile to any process binding port 0 (the sonic-servers of concurrent tests)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(10000, low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Processes:
    """Processes started by the test, stopped by PID at the end, their logs in `work`."""

    def __init__(self, work):
        self.work = work
        self.started = []

    def start(self, name, argv):
        log = open(self.work / f"{name}.log", "wb")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.started.append(process)
        return process

    def log(self, name):
        return (self.work / f"{name}.log").read_text(errors="replace")

    def stop_all(self):
        for process in reversed(self.started):
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait()


def wait_until(condition, what, processes, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes.started:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[0]} exited while waiting for {what}")
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def site():
    missing = [tool for tool in ("haproxy", "prometheus") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: run scripts/bootstrap.sh")
    work = Path(tempfile.mkdtemp(prefix="sonic-admission-"))
    processes = Processes(work)
    server = None
    try:
        (work / "models/slow/1").mkdir(parents=True)
        (work / "models/slow/config.pbtxt").write_text(SLOW_MODEL)
        # On ports it picks itself (read from its output), so no concurrent test's server can
        # be handed the same port; it has loaded its models once it listens.
        server = sonic_server.SonicServer(work / "models", work / "server.log")

        prometheus_port = free_port()
        (work / "prometheus.yml").write_text(
            "global: {scrape_interval: 500ms}\nscrape_configs:\n"
            f"  - {{job_name: sonic-server, static_configs: [{{targets: ['127.0.0.1:{server.metrics_port}']}}]}}\n")
        processes.start("prometheus", [
            "prometheus", f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}", "--log.level=warn"])
        wait_until(lambda: http_ok(f"http://127.0.0.1:{prometheus_port}/-/ready"),
                   "Prometheus", processes)

        balancer_port = free_port()
        stats_socket = work / "haproxy.sock"
        lines = [
            "global", f"  stats socket {stats_socket} mode 600 level admin",
            "defaults", "  mode http", "  timeout connect 2s", "  timeout client 1m",
            "  timeout server 1m",
            "frontend grpc", f"  bind 127.0.0.1:{balancer_port} proto h2",
            *cl.admission_frontend_lines(), "  default_backend servers",
            "backend servers", f"  server s1 {server.grpc_url} proto h2",
            *cl.admission_backend_lines(f"127.0.0.1:{prometheus_port}", THRESHOLD_US,
                                        window="2s", inter="300ms"),
        ]
        (work / "haproxy.cfg").write_text("\n".join(lines) + "\n")
        processes.start("haproxy", ["haproxy", "-db", "-f", str(work / "haproxy.cfg")])
        wait_until(stats_socket.exists, "HAProxy's stats socket", processes)
        yield {"server": server.grpc_url, "balancer": f"127.0.0.1:{balancer_port}",
               "stats": stats_socket, "processes": processes}
    finally:
        processes.stop_all()
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def stub(address):
    return service_pb2_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(address))


def client_start(address):
    """A new client's first calls through `address`: (ServerReady, RepositoryIndex) outcomes,
    each "OK" or "CODE: message". A fresh channel each time, as a new job opens one."""
    with grpc.insecure_channel(address) as channel:
        client = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        outcomes = []
        for call, request in ((client.ServerReady, service_pb2.ServerReadyRequest()),
                              (client.RepositoryIndex, service_pb2.RepositoryIndexRequest())):
            try:
                call(request, timeout=10)
                outcomes.append("OK")
            except grpc.RpcError as error:
                outcomes.append(f"{error.code().name}: {error.details()}")
        return outcomes


def infer_request():
    request = service_pb2.ModelInferRequest(model_name="slow")
    request.inputs.add(name="INPUT0", datatype="FP32", shape=[4])
    request.raw_input_contents.append(np.arange(4, dtype=np.float32).tobytes())
    return request


def saturation_state(stats):
    return cl.haproxy_server_states(stats, cl.SATURATION_BACKEND).get(cl.SATURATION_SERVER, "")


def test_new_clients_are_refused_while_the_fleet_is_saturated(site):
    stats, processes = site["stats"], site["processes"]
    # Idle: a new client is admitted (then forgotten, to be new again).
    assert client_start(site["balancer"]) == ["OK", "OK"]
    cl.haproxy_command(stats, "clear table clients")

    stop = threading.Event()
    errors = []

    def load():
        direct = stub(site["server"])
        while not stop.is_set():
            try:
                direct.ModelInfer(infer_request(), timeout=30)
            except grpc.RpcError as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=load) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: saturation_state(stats).startswith("UP"),
                   "the balancer to see the fleet saturated", processes)
        # ServerLive (a discovery's first call) passes, and does not make the client known.
        assert stub(site["balancer"]).ServerLive(service_pb2.ServerLiveRequest(), timeout=10).live
        refused = client_start(site["balancer"])
        for outcome in refused:
            assert outcome.startswith("UNAVAILABLE: the site's servers are saturated"), refused
        # A request that is no client start passes, and makes the address a known client,
        # whose discovery calls then pass too.
        stub(site["balancer"]).ModelInfer(infer_request(), timeout=30)
        assert client_start(site["balancer"]) == ["OK", "OK"]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors

    cl.haproxy_command(stats, "clear table clients")
    wait_until(lambda: saturation_state(stats).startswith("DOWN"),
               "the balancer to see the fleet no longer saturated", processes)
    assert client_start(site["balancer"]) == ["OK", "OK"]
