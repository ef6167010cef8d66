"""Ensemble models (platform "ensemble") through sonic-server with the stock tritonclient: a
pre-processing + model chain and a fan-out / fan-in DAG over real TorchScript and identity models,
over gRPC (unary and stream) and HTTP; metadata, config and statistics of the ensemble and of its
composing models; broken ensembles UNAVAILABLE with their reason while the others serve; an
ensemble UNAVAILABLE while a composing model is unloaded, and serving again once it is back.

Expectations are Triton's behaviour. The references are the steps computed directly: the composing
models called one by one through the same server, and numpy for the arithmetic models.
"""

import queue

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

import sonic_server

RESPONSE_WAIT_S = 10


def _step(model, inputs, outputs):
    maps = "".join(f' input_map {{ key: "{k}" value: "{v}" }}' for k, v in inputs.items())
    maps += "".join(f' output_map {{ key: "{k}" value: "{v}" }}' for k, v in outputs.items())
    return f'step {{ model_name: "{model}" model_version: -1{maps} }}\n'


def _ensemble(name, max_batch_size, inputs, outputs, steps):
    def tensors(kind, entries):
        return "".join(
            f'{kind} {{ name: "{n}" data_type: TYPE_FP32 dims: [ {", ".join(map(str, d))} ] }}\n'
            for n, d in entries
        )

    return (
        f'name: "{name}"\nplatform: "ensemble"\nmax_batch_size: {max_batch_size}\n'
        + tensors("input", inputs)
        + tensors("output", outputs)
        + "ensemble_scheduling {\n"
        + "".join(steps)
        + "}\n"
    )


# Pre-processing (torch_two_io: x + shift) then the model (torch_mlp).
PIPELINE = _ensemble(
    "ens_pipeline", 4, [("RAW", [16]), ("SHIFT", [16])], [("SCORE", [4])],
    [
        _step("torch_two_io", {"a": "RAW", "b": "SHIFT"}, {"OUTPUT__0": "shifted"}),
        _step("torch_mlp", {"INPUT__0": "shifted"}, {"OUTPUT__0": "SCORE"}),
    ],
)

# Fan-out / fan-in: s, p = a + b, a * b; each copied by its own identity step; then s + p, s * p.
DIAMOND = _ensemble(
    "ens_diamond", 4, [("A", [-1]), ("B", [-1])], [("SUM2", [-1]), ("PROD2", [-1])],
    [
        _step("torch_two_io", {"a": "s_copy", "b": "p_copy"},
              {"OUTPUT__0": "SUM2", "OUTPUT__1": "PROD2"}),
        _step("identity_fp32", {"INPUT0": "s"}, {"OUTPUT0": "s_copy"}),
        _step("identity_fp32", {"INPUT0": "p"}, {"OUTPUT0": "p_copy"}),
        _step("torch_two_io", {"a": "A", "b": "B"}, {"OUTPUT__0": "s", "OUTPUT__1": "p"}),
    ],
)

# Identity only (runs without LibTorch too), over a composing model of its own that the lifecycle
# test unloads.
CHAIN = _ensemble(
    "ens_chain", 8, [("IN", [-1])], [("OUT", [-1])],
    [
        _step("ens_step", {"INPUT0": "IN"}, {"OUTPUT0": "mid"}),
        _step("ens_step", {"INPUT0": "mid"}, {"OUTPUT0": "OUT"}),
    ],
)

STEP_MODEL = sonic_server.IDENTITY_RELOAD_CONFIG.replace("identity_reload", "ens_step")

CYCLE = _ensemble(
    "ens_cycle", 8, [("IN", [-1])], [("OUT", [-1])],
    [
        _step("identity_fp32", {"INPUT0": "y"}, {"OUTPUT0": "x"}),
        _step("identity_fp32", {"INPUT0": "x"}, {"OUTPUT0": "y"}),
        _step("identity_fp32", {"INPUT0": "IN"}, {"OUTPUT0": "OUT"}),
    ],
)

UNKNOWN_MODEL = _ensemble(
    "ens_unknown_model", 8, [("IN", [-1])], [("OUT", [-1])],
    [_step("no_such_model", {"INPUT0": "IN"}, {"OUTPUT0": "OUT"})],
)

TORCH_ENSEMBLES = ("ens_pipeline", "ens_diamond")


@pytest.fixture(scope="session")
def repository(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ensembles") / "models"
    sonic_server.write_repository(directory)
    for name, config in [
        ("ens_pipeline", PIPELINE), ("ens_diamond", DIAMOND), ("ens_chain", CHAIN),
        ("ens_step", STEP_MODEL), ("ens_cycle", CYCLE), ("ens_unknown_model", UNKNOWN_MODEL),
    ]:
        (directory / name / "1").mkdir(parents=True)
        (directory / name / "config.pbtxt").write_text(config)
    return directory


@pytest.fixture(scope="session")
def server(repository):
    # The broken ensembles fail to load on purpose: the server serves the others.
    log_path = sonic_server.output_dir() / "test_ensemble.server.log"
    process = sonic_server.SonicServer(repository, log_path, extra_args=["--exit-on-error=false"])
    yield process
    process.stop()


@pytest.fixture(scope="module")
def client(server):
    with grpcclient.InferenceServerClient(server.grpc_url) as c:
        yield c


@pytest.fixture(scope="module")
def http(server):
    if not server.http_url:
        pytest.skip("this sonic-server has no HTTP endpoint")
    with httpclient.InferenceServerClient(server.http_url) as c:
        yield c


@pytest.fixture(scope="module")
def torch_models(client):
    if not client.is_model_ready("torch_two_io"):
        pytest.skip("this build writes no TorchScript models (built without LibTorch)")


def grpc_inputs(arrays, module=grpcclient):
    tensors = []
    for name, data in arrays.items():
        tensor = module.InferInput(name, list(data.shape), "FP32")
        tensor.set_data_from_numpy(data)
        tensors.append(tensor)
    return tensors


def infer(client, model, arrays, outputs, module=grpcclient):
    requested = [module.InferRequestedOutput(name) for name in outputs]
    result = client.infer(model, grpc_inputs(arrays, module), outputs=requested)
    return {name: result.as_numpy(name) for name in outputs}


def stats(client, model):
    entry = client.get_inference_statistics(model, as_json=True)["model_stats"][0]
    success = entry["inference_stats"].get("success", {})
    return {
        "inference_count": int(entry.get("inference_count", 0)),
        "execution_count": int(entry.get("execution_count", 0)),
        "success": int(success.get("count", 0)),
        "infer_ns": int(entry["inference_stats"].get("compute_infer", {}).get("ns", 0)),
    }


def index(client):
    return {(m["name"], m.get("version", "")): m
            for m in client.get_model_repository_index(as_json=True)["models"]}


def test_pipeline_equals_its_steps_run_one_by_one(client, torch_models):
    rng = np.random.default_rng(7)
    raw = rng.standard_normal((3, 16)).astype(np.float32)
    shift = rng.standard_normal((3, 16)).astype(np.float32)
    score = infer(client, "ens_pipeline", {"RAW": raw, "SHIFT": shift}, ["SCORE"])["SCORE"]

    shifted = infer(client, "torch_two_io", {"a": raw, "b": shift}, ["OUTPUT__0"])["OUTPUT__0"]
    np.testing.assert_array_equal(shifted, raw + shift)
    direct = infer(client, "torch_mlp", {"INPUT__0": shifted}, ["OUTPUT__0"])["OUTPUT__0"]
    assert score.shape == (3, 4)
    np.testing.assert_allclose(score, direct, rtol=1e-5, atol=1e-6)


def test_diamond_equals_numpy_over_grpc_stream_and_http(client, http, torch_models):
    a = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=np.float32)
    b = np.array([[2.0, 0.25, -3.0], [8.0, -0.5, 2.0]], dtype=np.float32)
    s, p = a + b, a * b
    expected = {"SUM2": s + p, "PROD2": s * p}

    unary = infer(client, "ens_diamond", {"A": a, "B": b}, ["SUM2", "PROD2"])
    over_http = infer(http, "ens_diamond", {"A": a, "B": b}, ["SUM2", "PROD2"], httpclient)

    results = queue.Queue()
    client.start_stream(callback=lambda result, error: results.put((result, error)))
    try:
        client.async_stream_infer("ens_diamond", grpc_inputs({"A": a, "B": b}),
                                  outputs=[grpcclient.InferRequestedOutput("PROD2")])
        result, error = results.get(timeout=RESPONSE_WAIT_S)
    finally:
        client.stop_stream()
    assert error is None, error
    for got in (unary, over_http):
        for name, want in expected.items():
            np.testing.assert_allclose(got[name], want, rtol=1e-6)
    np.testing.assert_allclose(result.as_numpy("PROD2"), expected["PROD2"], rtol=1e-6)
    assert result.as_numpy("SUM2") is None  # only what was asked for


def test_metadata_and_config_describe_the_ensemble(client, http):
    metadata = client.get_model_metadata("ens_chain", as_json=True)
    assert metadata["platform"] == "ensemble"
    assert [t["name"] for t in metadata["inputs"]] == ["IN"]
    assert metadata["outputs"][0]["shape"] == ["-1", "-1"]
    config = http.get_model_config("ens_chain")
    assert config["platform"] == "ensemble"
    steps = config["ensemble_scheduling"]["step"]
    assert [s["model_name"] for s in steps] == ["ens_step", "ens_step"]
    assert client.is_model_ready("ens_chain")


def test_statistics_count_the_ensemble_and_each_composing_model(client):
    before = {m: stats(client, m) for m in ("ens_chain", "ens_step")}
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = infer(client, "ens_chain", {"IN": data}, ["OUT"])["OUT"]
    np.testing.assert_array_equal(out, data)
    after = {m: stats(client, m) for m in ("ens_chain", "ens_step")}

    # Two steps of a batch of 2 on the composing model: four inferences in two executions.
    assert after["ens_step"]["inference_count"] - before["ens_step"]["inference_count"] == 4
    assert after["ens_step"]["execution_count"] - before["ens_step"]["execution_count"] == 2
    assert after["ens_step"]["success"] - before["ens_step"]["success"] == 2
    # The ensemble: one request of batch 2, charged its steps' compute time.
    assert after["ens_chain"]["success"] - before["ens_chain"]["success"] == 1
    assert after["ens_chain"]["inference_count"] - before["ens_chain"]["inference_count"] == 2
    assert after["ens_chain"]["execution_count"] - before["ens_chain"]["execution_count"] == 1
    assert after["ens_chain"]["infer_ns"] > before["ens_chain"]["infer_ns"]


def test_broken_ensembles_are_unavailable_with_their_reason(client):
    models = index(client)
    cycle = models[("ens_cycle", "")]
    assert cycle["state"] == "UNAVAILABLE"
    assert "the steps form a cycle" in cycle["reason"], cycle
    unknown = models[("ens_unknown_model", "")]
    assert unknown["state"] == "UNAVAILABLE"
    assert "depends on 'no_such_model'" in unknown["reason"], unknown
    with pytest.raises(InferenceServerException):
        infer(client, "ens_cycle", {"IN": np.ones((1, 2), np.float32)}, ["OUT"])
    # The others serve.
    assert client.is_model_ready("ens_chain")
    assert models[("ens_chain", "1")]["state"] == "READY"


def test_a_bad_request_to_an_ensemble_is_refused_and_it_keeps_serving(client):
    with pytest.raises(InferenceServerException) as error:
        infer(client, "ens_chain", {"IN": np.ones((9, 2), np.float32)}, ["OUT"])  # batch > 8
    assert error.value.status() == "StatusCode.INVALID_ARGUMENT"
    data = np.ones((1, 5), np.float32)
    np.testing.assert_array_equal(infer(client, "ens_chain", {"IN": data}, ["OUT"])["OUT"], data)


def test_ensemble_unavailable_while_a_composing_model_is_unloaded(client):
    data = np.ones((1, 2), np.float32)
    client.unload_model("ens_step")
    try:
        assert not client.is_model_ready("ens_chain")
        with pytest.raises(InferenceServerException) as error:
            infer(client, "ens_chain", {"IN": data}, ["OUT"])
        assert error.value.status() == "StatusCode.UNAVAILABLE"
        assert "depends on 'ens_step'" in error.value.message()
        chain = index(client)[("ens_chain", "1")]
        assert chain["state"] == "UNAVAILABLE" and "ens_step" in chain["reason"]
    finally:
        client.load_model("ens_step")
    assert client.is_model_ready("ens_chain")
    np.testing.assert_array_equal(infer(client, "ens_chain", {"IN": data}, ["OUT"])["OUT"], data)


def test_loading_an_ensemble_loads_its_composing_models(client):
    client.unload_model("ens_step")
    client.unload_model("ens_chain")
    client.load_model("ens_chain")
    assert client.is_model_ready("ens_step")
    assert client.is_model_ready("ens_chain")
