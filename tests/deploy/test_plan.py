"""`sonic plan --deploy DIR`: the overlay of deploy/kubernetes it writes, rendered as kustomize
renders it (resources, strategic-merge patches), validates against Kubernetes' schemas and
carries the plan: replicas, the --load-model list of each server group, CPU and GPU resources,
the autoscaler's floor, and the per-model configurations (instances, batching) the servers select
with --model-config-name. Two plans: the seed's scale (every model on every GPU) and a split one
(two models that do not fit one GPU together; the groups of GPUs that hold the same model are one
server group). Where kubectl is installed, its kustomize renders
the same server objects."""

import copy
import os
import pathlib
import re
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

import deploy_files

SONIC = pathlib.Path(os.environ.get("SONIC_BUILD_DIR", deploy_files.ROOT / "build")) / "bin" / "sonic"
VERSION = kubernetes_validate.utils.latest_version()

# Two models of 2000 MB each on GPUs of 3000 MB: only a split placement fits. The tagger fills 5
# GPUs; the regressor 2 and its remainder a third alone: two groups of GPUs with one set of models.
# The server's CPU per request is measured, so the plan sizes the CPU request.
SPLIT_SITE = """
profiles:
  - model: tagger
    memory_mb_per_instance: 2000
    server_cpu_us_per_request: 400
    levels:
      - {batch_size: 1, concurrency: 4, throughput: 1000, latency_ms: {avg: 4, p50: 4, p99: 6}}
  - model: regressor
    memory_mb_per_instance: 2000
    server_cpu_us_per_request: 400
    levels:
      - {batch_size: 1, concurrency: 4, throughput: 2000, latency_ms: {avg: 2, p50: 2, p99: 3}}
workload:
  jobs: 100
  threads: 4
  events_per_second_per_thread: 10
  client_mode: async
  models:
    - {model: tagger, calls_per_event: 1}
    - {model: regressor, calls_per_event: 1}
constraints: {gpu_memory_mb: 3000, target_utilization: 0.8}
"""


# A site's model repository: a config.pbtxt per model, each batching up to 256 entries.
MODEL_CONFIG = """backend: "pytorch"
max_batch_size: 256
input [{ name: "x" data_type: TYPE_FP32 dims: [ 16 ] }]
output [{ name: "y" data_type: TYPE_FP32 dims: [ 4 ] }]
instance_group [{ count: 1 kind: KIND_GPU }]
"""


def run_plan(site, out, models=()):
    """`sonic plan --deploy`; with `models`, a model repository of them for --model-repository."""
    assert SONIC.exists(), f"{SONIC} is not built"
    command = [str(SONIC), "plan", str(site), "--out", str(out / "plan.yaml"), "--deploy",
               str(out / "overlay"), "--deploy-base", str(deploy_files.DEPLOY)]
    if models:
        for model in models:
            (out / "repository" / model / "1").mkdir(parents=True)
            (out / "repository" / model / "config.pbtxt").write_text(MODEL_CONFIG)
        command += ["--model-repository", str(out / "repository")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return yaml.safe_load((out / "plan.yaml").read_text()), out / "overlay"


def planned_config(overlay, model):
    """The instance count, preferred batch size and queue delay of the configuration the overlay
    wrote for `model` (protobuf text format, read for these fields only)."""
    text = (overlay / "model-repository" / model / "configs" / "sonic-plan.pbtxt").read_text()
    counts = re.findall(r"^\s*count: (\d+)$", text, re.MULTILINE)
    preferred = re.findall(r"^\s*preferred_batch_size: (\d+)$", text, re.MULTILINE)
    delay = re.findall(r"^\s*max_queue_delay_microseconds: (\d+)$", text, re.MULTILINE) or ["0"]
    return [int(c) for c in counts], [int(p) for p in preferred], [int(d) for d in delay]


def merge(base, patch):
    """A strategic merge as kustomize applies these patches: maps merge, lists of named maps
    merge by name, other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if (isinstance(base, list) and isinstance(patch, list) and patch
            and all(isinstance(item, dict) and "name" in item for item in base + patch)):
        merged = copy.deepcopy(base)
        for item in patch:
            index = next((i for i, old in enumerate(merged) if old["name"] == item["name"]), None)
            if index is None:
                merged.append(copy.deepcopy(item))
            else:
                merged[index] = merge(merged[index], item)
        return merged
    return copy.deepcopy(patch)


def render(overlay):
    """The overlay's objects: the base's resources with the patches applied, then its own."""
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    objects = []
    for resource in kustomization["resources"]:
        path = (overlay / resource).resolve()
        if path.is_dir():
            assert path == deploy_files.DEPLOY.resolve(), resource
            objects += [item for _, item in deploy_files.resources()]
        else:
            objects += [item for item in yaml.safe_load_all(path.read_text()) if item]
    for patch in kustomization["patches"]:
        patch_object = yaml.safe_load((overlay / patch["path"]).read_text())
        index = next(i for i, item in enumerate(objects)
                     if item["kind"] == patch_object["kind"]
                     and item["metadata"]["name"] == patch_object["metadata"]["name"])
        objects[index] = merge(objects[index], patch_object)
    return kustomization, objects


def find(objects, kind, name):
    return next(item for item in objects if item["kind"] == kind and item["metadata"]["name"] == name)


def server_container(deployment):
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"]
                if c["name"] == "sonic-server")


def load_models(container):
    return [arg.split("=", 1)[1] for arg in container["args"] if arg.startswith("--load-model=")]


def server_groups(plan):
    """(Deployment name, --load-model list, replicas) per set of models the plan's groups of GPUs
    hold, in the order of each set's first group: replicas add up ceil(GPUs / GPUs per server)
    over the set's groups, as the plan counts its servers."""
    per_server = plan["plan"]["gpus_per_server"]
    groups = {}
    for devices in plan["devices"]:
        models = [m["name"] for m in devices["models"]]
        group = groups.setdefault(frozenset(models), [models, 0])
        group[1] += -(-devices["count"] // per_server)
    return [("sonic-server" if i == 0 else f"sonic-server-g{i + 1}", models, replicas)
            for i, (models, replicas) in enumerate(groups.values())]


def check_objects(objects):
    for item in objects:
        if item["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: test_manifests checks the ScaledObject's fields
        kubernetes_validate.validate(item, VERSION, strict=True)


def test_the_seed_scale_plan_deploys_every_model_on_every_server(tmp_path):
    plan, overlay = run_plan(deploy_files.ROOT / "configs" / "plan" / "seed_scale.yaml", tmp_path,
                             models=("particlenet", "deeptau", "deepmet"))
    assert plan["plan"]["placement"] == "everywhere"
    kustomization, objects = render(overlay)
    assert kustomization["namespace"] == deploy_files.namespace()
    assert not (overlay / "server-groups.yaml").exists()
    check_objects(objects)

    deployment = find(objects, "Deployment", "sonic-server")
    assert deployment["spec"]["replicas"] == plan["plan"]["servers"]
    container = server_container(deployment)
    assert sorted(load_models(container)) == sorted(m["name"] for m in plan["models"])
    assert "--model-control-mode=explicit" in container["args"]
    assert sum(arg.startswith("--model-control-mode") for arg in container["args"]) == 1
    # The servers load the plan's configurations: its instances and batching per model.
    assert "--model-config-name=sonic-plan" in container["args"]
    for model in plan["models"]:
        counts, preferred, delay = planned_config(overlay, model["name"])
        assert counts == [model["instance_group"]["count"]]
        assert preferred == model["dynamic_batching"]["preferred_batch_size"]
        assert delay == [model["dynamic_batching"]["max_queue_delay_microseconds"]]
    # The base's other flags stay.
    base = server_container(deploy_files.resource("Deployment", "sonic-server"))
    assert [a for a in base["args"] if not a.startswith("--model-control-mode")] == \
        [a for a in container["args"]
         if not a.startswith(("--model-control-mode", "--load-model", "--model-config-name"))]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == plan["plan"]["gpus_per_server"]
    # No CPU was measured for these profiles: the base's request stays.
    assert container["resources"]["requests"]["cpu"] == base["resources"]["requests"]["cpu"]
    # Probes, ports and the drain are the base's.
    assert container["readinessProbe"] == base["readinessProbe"]
    scaled = find(objects, "ScaledObject", "sonic-server")
    assert scaled["spec"]["minReplicaCount"] == plan["plan"]["servers"]
    assert scaled["spec"]["maxReplicaCount"] >= plan["plan"]["servers"]
    assert scaled["spec"]["triggers"] == deploy_files.scaled_object()["spec"]["triggers"]


def test_a_split_plan_deploys_one_server_group_per_set_of_models(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SPLIT_SITE)
    plan, overlay = run_plan(site, tmp_path)
    assert plan["plan"]["placement"] == "split"
    groups = server_groups(plan)
    assert 2 <= len(groups) < len(plan["devices"])  # two groups of GPUs hold the regressor
    kustomization, objects = render(overlay)
    assert "server-groups.yaml" in kustomization["resources"]
    check_objects(objects)

    cpu = str(plan["plan"]["server"]["cpu_cores_provisioned"])
    assert int(cpu) >= 1
    names = [name for name, _, _ in groups]
    deployments = [o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"
                   and o["metadata"]["name"].startswith("sonic-server")]
    assert deployments == names
    for name, models, replicas in groups:
        deployment = find(objects, "Deployment", name)
        assert deployment["spec"]["replicas"] == replicas
        container = server_container(deployment)
        assert load_models(container) == models
        assert container["resources"]["requests"]["cpu"] == cpu
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        if name == "sonic-server":
            continue
        # A further group has a Service of its own that selects its pods only.
        service = find(objects, "Service", name)
        assert service["spec"]["selector"].items() <= labels.items()
        for other in names:
            if other != name:
                pods = find(objects, "Deployment", other)["spec"]["template"]["metadata"]
                assert not service["spec"]["selector"].items() <= pods["labels"].items()
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= \
            {p["name"] for p in container["ports"]}
    # Every model is loaded by some group, and every group's models were planned.
    loaded = {m for name in names
              for m in load_models(server_container(find(objects, "Deployment", name)))}
    assert loaded == {m["name"] for m in plan["models"]}
    # One GPU per server: the replicas are the plan's GPUs and servers.
    assert sum(replicas for _, _, replicas in groups) == plan["plan"]["servers"]


def test_a_split_plan_of_several_gpus_per_server_deploys_the_planned_servers(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SPLIT_SITE.replace("target_utilization: 0.8}",
                                       "target_utilization: 0.8, gpus_per_server: 2}"))
    plan, overlay = run_plan(site, tmp_path)
    assert plan["plan"]["placement"] == "split"
    _, objects = render(overlay)
    check_objects(objects)
    deployments = [o for o in objects if o["kind"] == "Deployment"
                   and o["metadata"]["name"].startswith("sonic-server")]
    groups = server_groups(plan)
    assert [d["metadata"]["name"] for d in deployments] == [name for name, _, _ in groups]
    # A server holds one group's GPUs: the groups' servers add up to the plan's.
    assert sum(d["spec"]["replicas"] for d in deployments) == plan["plan"]["servers"]
    for deployment, (_, models, replicas) in zip(deployments, groups):
        assert deployment["spec"]["replicas"] == replicas
        assert load_models(server_container(deployment)) == models
        assert server_container(deployment)["resources"]["limits"]["nvidia.com/gpu"] == 2


def test_kubectl_kustomize_renders_the_same_objects(tmp_path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    site = tmp_path / "site.yaml"
    site.write_text(SPLIT_SITE)
    _, overlay = run_plan(site, tmp_path)
    result = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    rendered = {(o["kind"], o["metadata"]["name"]): o
                for o in yaml.safe_load_all(result.stdout) if o}
    _, objects = render(overlay)
    for item in objects:
        # The servers' objects (others refer to generated ConfigMaps by kustomize's hashed names).
        if not item["metadata"]["name"].startswith("sonic-server"):
            continue
        kustomized = rendered[(item["kind"], item["metadata"]["name"])]
        assert kustomized["spec"] == item["spec"], item["metadata"]["name"]
