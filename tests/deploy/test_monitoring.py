"""The monitoring of deploy/kubernetes against the real sonic-server: the server started with the
Deployment's own arguments (ports and model repository swapped for the test's) answers the probes'
paths, drains on SIGTERM as the termination budget assumes, and exports every metric and label
that the recording rules, the Grafana dashboard and the KEDA trigger use. Every expression also
parses with promtool, the rules pass `promtool check rules` and their unit tests
(sonic_rules_test.yml), and prometheus.yml passes `promtool check config` with its Kubernetes
discovery (which Debian's Prometheus is built without) swapped for a static target."""

import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import yaml

import deploy_files

sys.path.insert(0, str(deploy_files.ROOT / "tests" / "stock_clients"))
import sonic_server  # noqa: E402  (the stock-client suites' repository writer, build lookup)

STARTUP_TIMEOUT_S = 60
GPU_SOURCE = deploy_files.ROOT / "src" / "server" / "metrics" / "gpu_metrics.cc"
# Labels Prometheus itself puts on every series.
PROMETHEUS_LABELS = {"job", "instance", "__name__"}
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "Inf", "NaN"}
# Grafana's variables, as Grafana would expand them.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$model": ".*", "$pod": ".*"}


def promtool():
    path = shutil.which("promtool")
    assert path, "promtool is not installed (scripts/bootstrap.sh installs Debian's prometheus)"
    return path


def server_container():
    template = deploy_files.resource("Deployment", "sonic-server")["spec"]["template"]
    (container,) = template["spec"]["containers"]
    return container


def manifest_args(repository):
    """The Deployment's arguments, with the model repository and loopback ports on any free port."""
    args = []
    for arg in server_container()["args"]:
        flag = arg.split("=", 1)[0]
        if flag == "--model-repository":
            arg = f"--model-repository={repository}"
        elif flag in ("--grpc-port", "--http-port", "--metrics-port"):
            arg = f"{flag}=0"
        args.append(arg)
    return args + ["--grpc-address=127.0.0.1"]


class ManifestServer:
    """sonic-server run as the Deployment runs it. Not thread-safe."""

    def __init__(self, repository, log_path):
        binary = sonic_server.build_dir() / "bin" / server_container()["command"][0]
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            sonic_server.dying_with_parent([binary, *manifest_args(repository)]),
            stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.ports = {}
        watchdog = threading.Timer(STARTUP_TIMEOUT_S, self.process.kill)
        watchdog.start()
        try:
            for line in self.process.stdout:
                match = re.match(r"sonic-server: (listening|http|metrics) on \S+:(\d+)", line)
                if match:
                    self.ports[match.group(1)] = int(match.group(2))
                if len(self.ports) == 3:
                    break
        finally:
            watchdog.cancel()
        if len(self.ports) != 3:
            self.stop()
            raise RuntimeError(f"sonic-server did not start; log: {log_path}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def get(self, port_name, path):
        """(status, body) of GET on loopback; status None when nothing answers."""
        url = f"http://127.0.0.1:{self.ports[port_name]}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""
        except (urllib.error.URLError, ConnectionError):
            return None, ""

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    repository = tmp_path_factory.mktemp("deploy") / "models"
    sonic_server.write_repository(repository)
    process = ManifestServer(repository, sonic_server.output_dir() / "deploy_monitoring.server.log")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def exported(server):
    """(metric names, label names) of the real server's /metrics. Where NVML finds no GPU the
    server leaves the GPU families out; their names and label then come from the GPU source."""
    status, text = server.get("metrics", "/metrics")
    assert status == 200
    names, labels = set(), set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s", line)
        assert match, line
        names.add(match.group(1))
        labels |= set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=\"", match.group(2) or ""))
    assert "nv_inference_queue_duration_us" in names
    if not any(name.startswith("nv_gpu_") for name in names):
        source = GPU_SOURCE.read_text()
        names |= set(re.findall(r"\"(nv_gpu_[a-z_]+)\"", source))
        labels |= set(re.findall(r"\{\"(gpu_[a-z_]+)\",", source))
    return names, labels


def recorded_names():
    return {rule["record"] for group in deploy_files.rules()["groups"] for rule in group["rules"]}


def target_labels():
    """Labels prometheus.yml's relabelling puts on every scraped series."""
    found = set()
    for job in deploy_files.prometheus_config()["scrape_configs"]:
        found |= {r["target_label"] for r in job.get("relabel_configs", []) if "target_label" in r}
    return found


def expand_grafana(expr):
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"an unknown variable in {expr}"
    return expr


def names_and_labels(expr):
    """(metric names, label names) an expression reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    labels = set()
    for matchers in re.findall(r"\{([^}]*)\}", text):
        labels |= set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    grouping = r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)"
    for names in re.findall(grouping, text):
        labels |= {name.strip() for name in names.split(",") if name.strip()}
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(grouping, " ", text)
    metrics = set()
    for match in re.finditer(r"(?<![0-9.A-Za-z_:])[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end():].lstrip()
        if not rest.startswith("(") and match.group(0) not in PROMQL_WORDS:
            metrics.add(match.group(0))
    return metrics, labels


def test_the_names_reader_sees_metrics_and_labels():
    metrics, labels = names_and_labels(
        'sum by (pod) (rate(nv_a{job="x", m=~"$m"}[1m])) / clamp_min(nv_b, 0.001) or vector(0)')
    assert metrics == {"nv_a", "nv_b"}
    assert labels == {"pod", "job", "m"}


def test_the_probe_paths_answer_on_the_probe_port(server):
    container = server_container()
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = container[probe]["httpGet"]
        assert get["port"] == "http"
        assert server.get("http", get["path"]) == (200, "")


def test_every_expression_reads_only_what_the_server_exports(exported):
    names, labels = exported
    known_names = names | recorded_names() | {"up"}
    known_labels = labels | target_labels() | PROMETHEUS_LABELS
    checked = 0
    for where, expr in deploy_files.expressions():
        metrics, used_labels = names_and_labels(expand_grafana(expr))
        assert metrics, where
        assert metrics <= known_names, f"{where}: {sorted(metrics - known_names)} not exported"
        assert used_labels <= known_labels, f"{where}: {sorted(used_labels - known_labels)}"
        checked += 1
    assert checked >= 20


def test_every_expression_parses(tmp_path):
    rules = [{"record": f"sonic_check:expression_{i}", "expr": expand_grafana(expr)}
             for i, (_, expr) in enumerate(deploy_files.expressions())]
    path = tmp_path / "expressions.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "expressions", "rules": rules}]}))
    result = subprocess.run([promtool(), "check", "rules", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def fleet_series(namespace):
    """Two servers of one model, each 10 requests/s of batch 8 (80 inferences/s) in 5
    executions/s; p1 queues each request 2000 us and computes 4000 us, p2 queues 4000 us.
    Samples every 15 s, linear, so rates over 1m and 2m are exact from 2m on."""
    series = []
    for pod, queue_us in (("p1", 2000), ("p2", 4000)):
        labels = (f'job="sonic-server", namespace="{namespace}", pod="{pod}", model="m", '
                  'version="1"')
        per_step = {"nv_inference_request_success": 150, "nv_inference_count": 1200,
                    "nv_inference_exec_count": 75, "nv_inference_queue_duration_us": 150 * queue_us,
                    "nv_inference_compute_infer_duration_us": 150 * 4000}
        for name, step in per_step.items():
            series.append({"series": f"{name}{{{labels}}}", "values": f"0+{step}x20"})
    return series


def test_recording_rules_and_the_keda_query_compute_queue_time_per_request(tmp_path):
    """promtool check rules, then promtool's rule unit tests on the series above: queue time is
    per request (2000 us, not 2000/8 per inference), the fleet's is 3000 us, and the KEDA query
    gives the fleet's value under load and 0 without traffic or servers."""
    rules = deploy_files.DEPLOY / "sonic-rules.yml"
    result = subprocess.run([promtool(), "check", "rules", str(rules)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    namespace = deploy_files.namespace()
    (trigger,) = deploy_files.scaled_object()["spec"]["triggers"]
    keda_query = trigger["metadata"]["query"]
    p1 = f'{{namespace="{namespace}", pod="p1", model="m"}}'

    def sample(expr, value, labels):
        return {"expr": expr, "eval_time": "3m",
                "exp_samples": [{"labels": labels, "value": value}]}

    loaded = {"interval": "15s", "input_series": fleet_series(namespace), "promql_expr_test": [
        sample('sonic:requests:rate1m{pod="p1"}', 10, "sonic:requests:rate1m" + p1),
        sample('sonic:inferences:rate1m{pod="p1"}', 80, "sonic:inferences:rate1m" + p1),
        sample('sonic:batch_size:rate1m{pod="p1"}', 16, "sonic:batch_size:rate1m" + p1),
        sample('sonic:queue_us_per_request:rate1m{pod="p1"}', 2000,
               "sonic:queue_us_per_request:rate1m" + p1),
        sample('sonic:compute_infer_us_per_request:rate1m{pod="p1"}', 4000,
               "sonic:compute_infer_us_per_request:rate1m" + p1),
        sample("sonic:queue_us_per_request:fleet_rate1m", 3000,
               f'sonic:queue_us_per_request:fleet_rate1m{{namespace="{namespace}"}}'),
        sample(keda_query, 3000, "{}"),
    ]}
    idle_series = [{"series": s["series"], "values": "0x20"} for s in fleet_series(namespace)]
    idle = {"interval": "15s", "input_series": idle_series,
            "promql_expr_test": [sample(keda_query, 0, "{}")]}
    empty = {"interval": "15s", "input_series": [],
             "promql_expr_test": [sample(keda_query, 0, "{}")]}
    tests = tmp_path / "sonic_rules_test.yml"
    tests.write_text(yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": "15s",
                                     "tests": [loaded, idle, empty]}))
    result = subprocess.run([promtool(), "test", "rules", str(tests)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_passes_promtool_with_static_discovery(tmp_path):
    config = deploy_files.prometheus_config()
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["127.0.0.1:8002"]}]
    shutil.copy(deploy_files.DEPLOY / "sonic-rules.yml", tmp_path)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run([promtool(), "check", "config", str(tmp_path / "prometheus.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_dashboard_panels_are_well_formed():
    board = deploy_files.dashboard()
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    variables = {variable["name"] for variable in board["templating"]["list"]}
    assert {"datasource", "model", "pod"} <= variables
    titles = " ".join(panel["title"] for panel in board["panels"])
    for subject in ("Queue", "compute", "Inferences/s per server and model", "GPU utilization",
                    "GPU memory"):
        assert subject in titles, subject
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]


def pending_requests(server, model):
    status, text = server.get("metrics", "/metrics")
    assert status == 200
    match = re.search(rf'^nv_inference_pending_request_count\{{model="{model}",[^}}]*\}} (\S+)$',
                      text, re.M)
    return float(match.group(1)) if match else 0.0


def test_sigterm_stops_readiness_and_finishes_the_requests_in_flight(server):
    """Last: stops the module's server. What the termination budget relies on: requests the
    server accepted before SIGTERM (one running, two queued behind it on identity_delay's one
    instance) all succeed, readiness stops answering 200, and the server exits with 0 within
    --exit-timeout-secs."""
    args = server_container()["args"]
    drain = int(next(a for a in args if a.startswith("--exit-timeout-secs=")).split("=")[1])
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{server.ports['listening']}")
    results = queue.Queue()
    sent = [np.full(4, i, np.float32) for i in range(3)]
    for data in sent:
        tensor = grpcclient.InferInput("INPUT0", [4], "FP32")
        tensor.set_data_from_numpy(data)
        client.async_infer("identity_delay", [tensor],
                           callback=lambda result, error: results.put((result, error)))
    deadline = time.monotonic() + drain
    while pending_requests(server, "identity_delay") < len(sent):
        assert time.monotonic() < deadline, "the requests never reached the server"
        time.sleep(0.01)
    server.process.send_signal(signal.SIGTERM)
    while server.get("http", "/v2/health/ready")[0] == 200:
        assert time.monotonic() < deadline, "still ready after SIGTERM"
        time.sleep(0.05)
    echoed = []
    for _ in sent:
        result, error = results.get(timeout=drain)
        assert error is None, error
        echoed.append(float(result.as_numpy("OUTPUT0")[0]))
    assert sorted(echoed) == [float(data[0]) for data in sent]
    assert server.process.wait(timeout=drain) == 0
    client.close()
