"""deploy/kubernetes validated offline: every object against Kubernetes' schemas
(kubernetes-validate, strict: an unknown field fails), the KEDA ScaledObject against its
documented fields, references between the objects, the termination budget, and haproxy.cfg with
HAProxy's own checker."""

import copy
import importlib.resources
import json
import pathlib
import re
import shutil
import subprocess

import jsonschema
import kubernetes_validate
import pytest
import referencing

import deploy_files

# The oldest Kubernetes the files are meant for, and the newest the validator knows.
LATEST = kubernetes_validate.utils.latest_version()  # e.g. "1.37.0"
VERSIONS = ["1.28", LATEST]
KEDA_SCHEMA = pathlib.Path(__file__).with_name("keda_scaledobject.schema.json")
# main.cc exits this long past --exit-timeout-secs at the latest.
SERVER_EXIT_SLACK_S = 2


def pod_templates():
    for _, item in deploy_files.resources():
        if item["kind"] == "Deployment":
            yield item["metadata"]["name"], item["spec"]["template"]


def container_ports(template):
    return {port["name"]: port["containerPort"]
            for container in template["spec"]["containers"] for port in container.get("ports", [])}


def prestop_sleep_seconds(container):
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    match = re.fullmatch(r"sleep (\d+)", command[-1])
    assert match, f"{container['name']}: preStop is not a plain sleep: {command}"
    return int(match.group(1))


def flag_value(args, flag):
    for arg in args:
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    raise KeyError(flag)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_validates_against_the_kubernetes_schemas(version):
    checked = 0
    for name, item in deploy_files.resources():
        if item["apiVersion"].startswith("keda.sh/"):
            # A CRD: kubernetes-validate has no schema (test_scaled_object_* check it).
            with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                kubernetes_validate.validate(item, version, strict=True)
            continue
        kubernetes_validate.validate(item, version, strict=True)
        checked += 1
    assert checked >= 10


def test_the_validator_refuses_a_misspelt_or_mistyped_field():
    deployment = deploy_files.resource("Deployment", "sonic-server")
    kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)

    misspelt = copy.deepcopy(deployment)
    misspelt_container = misspelt["spec"]["template"]["spec"]["containers"][0]
    misspelt_container["readinesProbe"] = misspelt_container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, VERSIONS[-1], strict=True)

    mistyped = copy.deepcopy(deployment)
    mistyped["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "sixty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(mistyped, VERSIONS[-1], strict=True)


def hpa_behavior_validator():
    """Kubernetes' own HorizontalPodAutoscalerBehavior schema (autoscaling/v2), strict."""
    ref = importlib.resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", f"v{LATEST}-local-strict", "_definitions.json")
    definitions = referencing.Resource.from_contents(json.loads(ref.read_text()))
    registry = definitions @ referencing.Registry()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$ref": "https://kubernetes.io/api/_definitions.json"
                      "#/$defs/io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def keda_validator():
    return jsonschema.Draft202012Validator(json.loads(KEDA_SCHEMA.read_text()))


def test_scaled_object_has_only_keda_fields_and_a_valid_hpa_behavior():
    scaled = deploy_files.scaled_object()
    keda_validator().validate(scaled)
    behavior = scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    hpa_behavior_validator().validate(behavior)

    misspelt = copy.deepcopy(scaled)
    misspelt["spec"]["triggers"][0]["metadata"]["treshold"] = "5000"
    assert not keda_validator().is_valid(misspelt)
    numeric = copy.deepcopy(scaled)
    numeric["spec"]["triggers"][0]["metadata"]["threshold"] = 5000  # KEDA takes strings
    assert not keda_validator().is_valid(numeric)
    bad_policy = copy.deepcopy(behavior)
    bad_policy["scaleUp"]["policies"][0]["type"] = 2
    assert not hpa_behavior_validator().is_valid(bad_policy)
    assert not hpa_behavior_validator().is_valid({"scaleUpp": behavior["scaleUp"]})


def test_scaled_object_scales_the_server_on_prometheus_of_this_namespace():
    spec = deploy_files.scaled_object()["spec"]
    target = spec["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    deploy_files.resource("Deployment", target["name"])
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "prometheus" and trigger["metricType"] == "Value"
    address = trigger["metadata"]["serverAddress"]
    match = re.fullmatch(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)", address)
    assert match, address
    service = deploy_files.resource("Service", match.group(1))
    assert match.group(2) == deploy_files.namespace()
    assert int(match.group(3)) in [port["port"] for port in service["spec"]["ports"]]
    query = trigger["metadata"]["query"]
    assert "nv_inference_queue_duration_us" in query
    assert "nv_inference_request_success" in query
    assert "exec_count" not in query
    assert f'namespace="{deploy_files.namespace()}"' in query


def test_every_config_map_a_pod_mounts_is_generated_or_defined():
    generated = deploy_files.generated_config_maps()
    for files in generated.values():
        for name in files:
            assert (deploy_files.DEPLOY / name).is_file(), name
    defined = {item["metadata"]["name"] for _, item in deploy_files.resources()
               if item["kind"] == "ConfigMap"}
    mounted = [volume["configMap"]["name"] for _, template in pod_templates()
               for volume in template["spec"].get("volumes", []) if "configMap" in volume]
    assert mounted
    for name in mounted:
        assert name in generated or name in defined, name


def test_prestop_hooks_hand_the_shell_one_script():
    hooks = 0
    for name, template in pod_templates():
        for container in template["spec"]["containers"]:
            exec_hook = container.get("lifecycle", {}).get("preStop", {}).get("exec")
            if not exec_hook:
                continue
            command = exec_hook["command"]
            if command[0].endswith("sh") and "-c" in command:
                # sh -c takes one operand as the script; more are $0, $1, ... and never run.
                assert len(command) == command.index("-c") + 2, f"{name}: {command}"
                shell = shutil.which("sh")
                subprocess.run([shell, "-n", "-c", command[-1]], check=True)
            prestop_sleep_seconds(container)
            hooks += 1
    assert hooks >= 2


def test_grace_period_covers_the_prestop_sleep_and_the_server_drain():
    template = dict(pod_templates())["sonic-server"]
    (container,) = template["spec"]["containers"]
    drain = int(flag_value(container["args"], "--exit-timeout-secs"))
    needed = prestop_sleep_seconds(container) + drain + SERVER_EXIT_SLACK_S
    assert template["spec"]["terminationGracePeriodSeconds"] >= needed


def test_the_prestop_sleep_outlasts_haproxy_dropping_a_vanished_pod():
    config = (deploy_files.DEPLOY / "haproxy.cfg").read_text()

    def seconds(setting):
        return int(re.search(rf"^\s*{setting}\s+(\d+)s\s*$", config, re.M).group(1))

    # Cluster DNS answers live up to 5 s (CoreDNS' default for Services); HAProxy asks again
    # every `timeout resolve` and keeps a vanished address `hold obsolete` longer.
    dns_ttl = 5
    vanish = dns_ttl + seconds("timeout resolve") + seconds("hold obsolete")
    (container,) = dict(pod_templates())["sonic-server"]["spec"]["containers"]
    assert prestop_sleep_seconds(container) > vanish


def test_pods_that_must_not_run_as_root_name_their_user_by_number():
    # The kubelet refuses to start a runAsNonRoot container whose image names its user.
    for name, template in pod_templates():
        context = template["spec"]["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert isinstance(context.get("runAsUser"), int) and context["runAsUser"] > 0, name


def test_probes_and_services_name_ports_that_exist():
    templates = dict(pod_templates())
    for name, template in templates.items():
        ports = container_ports(template)
        for container in template["spec"]["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["port"] in ports, (name, probe)
    server = templates["sonic-server"]["spec"]["containers"][0]
    assert server["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert server["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    for _, item in deploy_files.resources():
        if item["kind"] != "Service":
            continue
        selector = item["spec"]["selector"]
        selected = [t for t in templates.values()
                    if selector.items() <= t["metadata"]["labels"].items()]
        assert selected, item["metadata"]["name"]
        for port in item["spec"]["ports"]:
            assert port["targetPort"] in container_ports(selected[0]), port


def test_haproxy_config_passes_haproxy_check_and_names_the_server_pods():
    haproxy = shutil.which("haproxy")
    assert haproxy, "haproxy is not installed (scripts/bootstrap.sh installs it)"
    config = deploy_files.DEPLOY / "haproxy.cfg"
    result = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    text = config.read_text()
    headless = deploy_files.resource("Service", "sonic-server-pods")
    assert headless["spec"]["clusterIP"] == "None"
    service_ports = {port["port"] for port in headless["spec"]["ports"]}
    targets = re.findall(r"server-template \S+ \S+ ([a-z0-9.-]+):(\d+)", text)
    assert len(targets) == 2
    for host, port in targets:
        assert host == f"sonic-server-pods.{deploy_files.namespace()}.svc.cluster.local"
        assert int(port) in service_ports
    assert re.search(r"check port 8000 check-proto h1", text)
    balancer = dict(pod_templates())["haproxy"]
    binds = {int(port) for port in re.findall(r"^\s*bind :(\d+)", text, re.M)}
    assert binds == set(container_ports(balancer).values())


def test_haproxy_refuses_new_clients_on_a_recorded_fleet_queue_time_above_the_scaling_target():
    text = (deploy_files.DEPLOY / "haproxy.cfg").read_text()
    (query,) = deploy_files.haproxy_prometheus_queries()
    recorded, threshold = re.fullmatch(r"(\S+) > (\d+)", query).groups()
    records = {rule["record"] for group in deploy_files.rules()["groups"]
               for rule in group["rules"]}
    assert recorded in records
    (trigger,) = deploy_files.scaled_object()["spec"]["triggers"]
    # Refusing clients is the last resort: autoscaling acts first.
    assert int(threshold) > int(trigger["metadata"]["threshold"])
    # The check's server is the Prometheus Service, on its port.
    prometheus = deploy_files.resource("Service", "prometheus")
    host, port = re.search(r"server queue_time_over_threshold ([a-z0-9.-]+):(\d+) check", text).groups()
    assert host == f"prometheus.{deploy_files.namespace()}.svc.cluster.local"
    assert int(port) in {p["port"] for p in prometheus["spec"]["ports"]}
    # Both frontends refuse client starts only while saturated, and only to unknown clients.
    assert len(re.findall(r"http-request return .* if client_start fleet_saturated "
                          r"!\{ sc0_get_gpc0 gt 0 \}", text)) == 2


def test_prometheus_jobs_keep_the_pods_and_ports_of_the_manifests():
    jobs = {job["job_name"]: job for job in deploy_files.prometheus_config()["scrape_configs"]}
    for job_name, port_name in (("sonic-server", "metrics"), ("haproxy", "stats")):
        job = jobs[job_name]
        (sd,) = job["kubernetes_sd_configs"]
        assert sd["namespaces"]["names"] == [deploy_files.namespace()]
        keep = next(r for r in job["relabel_configs"] if r.get("action") == "keep")
        template = dict(pod_templates())[job_name]
        value = f"{template['metadata']['labels']['app.kubernetes.io/name']};{port_name}"
        assert re.fullmatch(keep["regex"], value), (job_name, keep["regex"], value)
        assert port_name in container_ports(template)
        targets = {r.get("target_label") for r in job["relabel_configs"]}
        assert {"namespace", "pod"} <= targets
