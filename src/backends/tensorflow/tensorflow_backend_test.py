"""The tensorflow backend through the real sonic-server and the stock tritonclient, against the same
models run by TensorFlow in this process (tf_test_models.py writes them once for the module)."""

import pathlib
import queue
import sys

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "tests" / "stock_clients"))

import sonic_server  # noqa: E402
import tf_test_models  # noqa: E402

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    repository = tmp_path_factory.mktemp("tensorflow") / "models"
    references = {
        "deepmet_tf": tf_test_models.write_deepmet_graphdef(repository, dynamic_batching=True),
        "scorer_tf": tf_test_models.write_savedmodel(repository),
        "mlp_tf": tf_test_models.write_mlp_graphdef(repository),
        "scaled_tf": tf_test_models.write_init_ops_graphdef(repository),
    }
    # The SavedModel with two instances, each with its own session.
    scorer_config = repository / "scorer_tf" / "config.pbtxt"
    scorer_config.write_text(
        scorer_config.read_text() + "instance_group { count: 2 kind: KIND_CPU }\n"
    )
    # The MLP named by backend alone: the file decides GraphDef or SavedModel.
    _copy_model(
        repository,
        "mlp_tf",
        "mlp_backend_only",
        [('platform: "tensorflow_graphdef"', 'backend: "tensorflow"')],
    )
    # Broken: bytes that are no GraphDef, and an output the graph does not have.
    _copy_model(repository, "mlp_tf", "broken_tf", [])
    (repository / "broken_tf" / "1" / "model.graphdef").write_bytes(b"this is not a GraphDef")
    _copy_model(repository, "mlp_tf", "misnamed_tf", [('"OUTPUT0:0"', '"dense7/Relu"')])
    _copy_model(
        repository,
        "mlp_tf",
        "mistyped_tf",
        [('name: "INPUT0" data_type: TYPE_FP32', 'name: "INPUT0" data_type: TYPE_INT32')],
    )
    return repository, references


def _copy_model(repository, source, name, replacements):
    """A copy of model `source` named `name`, its config edited by (old, new) text pairs."""
    (repository / name / "1").mkdir(parents=True)
    (repository / name / "1" / "model.graphdef").write_bytes(
        (repository / source / "1" / "model.graphdef").read_bytes()
    )
    config = (repository / source / "config.pbtxt").read_text().replace(source, name)
    for old, new in replacements:
        config = config.replace(old, new)
    (repository / name / "config.pbtxt").write_text(config)


@pytest.fixture(scope="module")
def server(models):
    repository, _ = models
    process = sonic_server.SonicServer(
        repository,
        sonic_server.output_dir() / "tensorflow_backend_test.server.log",
        extra_args=["--exit-on-error=false"],
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def client(server):
    with grpcclient.InferenceServerClient(server.grpc_url) as connection:
        yield connection


def infer(client, model, inputs, outputs):
    tensors = []
    for name, array in inputs.items():
        tensor = grpcclient.InferInput(name, list(array.shape), _wire_type(array))
        tensor.set_data_from_numpy(array)
        tensors.append(tensor)
    requested = [grpcclient.InferRequestedOutput(name) for name in outputs]
    result = client.infer(model, tensors, outputs=requested)
    return [result.as_numpy(o) for o in outputs]


def _wire_type(array):
    return {np.float32: "FP32", np.int32: "INT32"}[array.dtype.type]


def deepmet_inputs(rng, events, candidates):
    features = rng.standard_normal((events, candidates, tf_test_models.DEEPMET_FEATURES))
    categories = rng.integers(0, tf_test_models.DEEPMET_CATEGORIES, (events, candidates))
    return features.astype(np.float32), categories.astype(np.int32)


def test_graphdef_with_variable_candidates_matches_tensorflow(models, client):
    _, references = models
    rng = np.random.default_rng(10)
    for events, candidates in [(3, 5), (1, 40), (16, 2)]:
        features, categories = deepmet_inputs(rng, events, candidates)
        (got,) = infer(
            client, "deepmet_tf", {"input": features, "input_cat0": categories}, ["output/BiasAdd"]
        )
        (expected,) = references["deepmet_tf"](features, categories)
        assert got.shape == (events, 2)
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_graphdef_requests_batched_by_the_server_match_tensorflow(models, server):
    """Concurrent one-event requests: the dynamic batcher runs them together in one session run."""
    _, references = models
    rng = np.random.default_rng(11)
    requests = [deepmet_inputs(rng, 1, 12) for _ in range(24)]
    with grpcclient.InferenceServerClient(server.grpc_url) as connection:
        pending = []
        for features, categories in requests:
            tensors = []
            for name, array in (("input", features), ("input_cat0", categories)):
                tensor = grpcclient.InferInput(name, list(array.shape), _wire_type(array))
                tensor.set_data_from_numpy(array)
                tensors.append(tensor)
            answers = queue.Queue()
            connection.async_infer(
                "deepmet_tf", tensors, lambda result, error, a=answers: a.put((result, error))
            )
            pending.append(answers)
        for (features, categories), answers in zip(requests, pending):
            result, error = answers.get(timeout=30)
            assert error is None, error
            (expected,) = references["deepmet_tf"](features, categories)
            np.testing.assert_allclose(
                result.as_numpy("output/BiasAdd"), expected, rtol=0, atol=TOLERANCE
            )
    statistics = client_statistics(server, "deepmet_tf")
    assert statistics["execution_count"] < statistics["inference_count"]


def client_statistics(server, model):
    with grpcclient.InferenceServerClient(server.grpc_url) as connection:
        stats = connection.get_inference_statistics(model, as_json=True)["model_stats"][0]
    return {
        "execution_count": int(stats.get("execution_count", 0)),
        "inference_count": int(stats.get("inference_count", 0)),
    }


def test_savedmodel_signature_names_match_tensorflow(models, client):
    _, references = models
    rng = np.random.default_rng(12)
    for batch, items in [(2, 4), (8, 1)]:
        features = rng.standard_normal((batch, items, 5)).astype(np.float32)
        scale = rng.uniform(0.5, 2.0, (batch, 1)).astype(np.float32)
        got = infer(
            client, "scorer_tf", {"features": features, "scale": scale}, ["score", "hidden"]
        )
        expected = references["scorer_tf"](features, scale)
        for value, reference in zip(got, expected):
            assert value.shape == reference.shape
            np.testing.assert_allclose(value, reference, rtol=0, atol=TOLERANCE)
    # One output alone: only it is fetched.
    (score,) = infer(client, "scorer_tf", {"features": features, "scale": scale}, ["score"])
    np.testing.assert_allclose(score, expected[0], rtol=0, atol=TOLERANCE)


def test_output_named_with_its_index_matches_tensorflow(models, client):
    _, references = models
    x = np.random.default_rng(13).standard_normal((5, 32)).astype(np.float32)
    (expected,) = references["mlp_tf"](x)
    for model in ("mlp_tf", "mlp_backend_only"):
        (got,) = infer(client, model, {"INPUT0": x}, ["OUTPUT0:0"])
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_init_ops_run_before_the_first_request(models, client):
    _, references = models
    x = np.random.default_rng(15).standard_normal((3, 4)).astype(np.float32)
    (got,) = infer(client, "scaled_tf", {"x": x}, ["y"])
    np.testing.assert_allclose(got, references["scaled_tf"](x)[0], rtol=0, atol=TOLERANCE)


def test_broken_models_are_unavailable_with_their_reason_while_others_serve(client, models):
    index = {
        entry["name"]: entry
        for entry in client.get_model_repository_index(as_json=True)["models"]
    }
    broken = index["broken_tf"]
    assert broken["state"] == "UNAVAILABLE"
    assert "cannot import" in broken["reason"] and "model.graphdef" in broken["reason"]
    assert "\n" not in broken["reason"]
    misnamed = index["misnamed_tf"]
    assert misnamed["state"] == "UNAVAILABLE"
    assert "output 'dense7/Relu' is not an operation of the graph" in misnamed["reason"]
    mistyped = index["mistyped_tf"]
    assert mistyped["state"] == "UNAVAILABLE"
    assert "input 'INPUT0' is INT32 in the config but FP32 in the graph" in mistyped["reason"]
    for ready in ("deepmet_tf", "scorer_tf", "mlp_tf", "mlp_backend_only", "scaled_tf"):
        assert index[ready]["state"] == "READY"
        assert client.is_model_ready(ready)


def test_inputs_the_graph_refuses_are_an_error_and_the_model_keeps_serving(models, client):
    _, references = models
    features, categories = deepmet_inputs(np.random.default_rng(14), 2, 5)
    # The config's variable dims let 5 and 6 candidates through; the graph's concat refuses them.
    with pytest.raises(InferenceServerException, match="the run failed"):
        infer(
            client,
            "deepmet_tf",
            {"input": features, "input_cat0": np.zeros((2, 6), np.int32)},
            ["output/BiasAdd"],
        )
    (got,) = infer(
        client, "deepmet_tf", {"input": features, "input_cat0": categories}, ["output/BiasAdd"]
    )
    (expected,) = references["deepmet_tf"](features, categories)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
