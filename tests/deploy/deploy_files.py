"""The Kubernetes files of deploy/kubernetes as the tests read them: the kustomization, its
resources and generated ConfigMap files, and every PromQL expression they hold (recording rules,
Grafana dashboard, KEDA trigger, HAProxy's saturation check)."""

import json
import pathlib
import re
import urllib.parse

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"


def kustomization():
    return yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())


def resources():
    """(file name, object) for every object of every resource file the kustomization lists."""
    found = []
    for name in kustomization()["resources"]:
        for item in yaml.safe_load_all((DEPLOY / name).read_text()):
            if item:
                found.append((name, item))
    return found


def resource(kind, name):
    for _, item in resources():
        if item["kind"] == kind and item["metadata"]["name"] == name:
            return item
    raise KeyError(f"no {kind} {name} in {DEPLOY}")


def generated_config_maps():
    """Name -> the file names of each configMapGenerator entry."""
    return {entry["name"]: entry["files"] for entry in kustomization()["configMapGenerator"]}


def namespace():
    return kustomization()["namespace"]


def rules():
    return yaml.safe_load((DEPLOY / "sonic-rules.yml").read_text())


def dashboard():
    return json.loads((DEPLOY / "grafana-dashboard.json").read_text())


def scaled_object():
    return resource("ScaledObject", "sonic-server")


def prometheus_config():
    return yaml.safe_load((DEPLOY / "prometheus.yml").read_text())


def expressions():
    """(where, PromQL) for every expression: recording rules, dashboard targets and variable
    queries (label_values(...) stands for its metric selector), the KEDA trigger's query."""
    found = []
    for group in rules()["groups"]:
        for rule in group["rules"]:
            found.append((f"rule {rule['record']}", rule["expr"]))
    board = dashboard()
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            found.append((f"panel '{panel['title']}' {target['refId']}", target["expr"]))
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"]
            assert query.startswith("label_values(") and query.endswith(")"), query
            selector = query[len("label_values("):-1].rsplit(",", 1)[0]
            found.append((f"variable {variable['name']}", selector))
    for trigger in scaled_object()["spec"]["triggers"]:
        found.append((f"KEDA trigger {trigger.get('name', trigger['type'])}",
                      trigger["metadata"]["query"]))
    for query in haproxy_prometheus_queries():
        found.append(("HAProxy's fleet_saturated check", query))
    return found


def haproxy_prometheus_queries():
    """The PromQL that haproxy.cfg's checks send to Prometheus, decoded."""
    text = (DEPLOY / "haproxy.cfg").read_text()
    return [urllib.parse.unquote(query)
            for query in re.findall(r"uri /api/v1/query\?query=(\S+)", text)]
