"""The onnxruntime backend through the real sonic-server and the stock tritonclient.

The reference is ONNX Runtime itself, called in this process on the same model file: outputs must
agree within 1e-5. Broken models (an unreadable file, a config the model contradicts, a bad thread
parameter) must be UNAVAILABLE with a one-line reason while the others serve.
"""

import functools
import os
import pathlib
import queue
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

import onnx_models

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "stock_clients"))
import sonic_server  # noqa: E402

TOLERANCE = 1e-5

DOUBLER_CONFIG = """name: "doubler"
backend: "onnxruntime"
input [ { name: "x" data_type: TYPE_INT64 dims: [ -1 ] } ]
output [ { name: "y" data_type: TYPE_INT64 dims: [ -1 ] } ]
"""

STRINGS_CONFIG = """name: "strings"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "text" data_type: TYPE_STRING dims: [ 2 ] } ]
output [ { name: "same" data_type: TYPE_STRING dims: [ 2 ] } ]
"""

# A Python-backend model running the same ONNX file with onnxruntime itself: both plugins share
# the server's one interpreter.
PY_PARTICLENET = """
import os
import onnxruntime
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        path = os.path.join(args["model_repository"], args["model_version"], "model.onnx")
        self.session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])

    def execute(self, requests):
        responses = []
        for request in requests:
            feed = {name: pb_utils.get_input_tensor_by_name(request, name).as_numpy()
                    for name in ("pf_features", "pf_mask")}
            softmax = self.session.run(None, feed)[0]
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("softmax", softmax)]))
        return responses
"""

THREAD_PARAMETERS = """parameters { key: "intra_op_thread_count" value { string_value: "1" } }
parameters { key: "inter_op_thread_count" value { string_value: "1" } }
parameters { key: "execution_mode" value { string_value: "1" } }
optimization { graph { level: 1 } }
"""


def write_model(repository, name, config, model):
    (repository / name / "1").mkdir(parents=True)
    (repository / name / "config.pbtxt").write_text(config)
    path = repository / name / "1" / "model.onnx"
    if isinstance(model, bytes):
        path.write_bytes(model)
    else:
        onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    directory = tmp_path_factory.mktemp("onnxruntime") / "models"
    directory.mkdir()
    onnx_models.write_particlenet(directory, "particlenet", instances=2)
    onnx_models.write_particlenet(directory, "particlenet_threads", extra=THREAD_PARAMETERS)
    onnx_file = onnx_models.write_particlenet(directory, "py_particlenet")
    config = directory / "py_particlenet" / "config.pbtxt"
    config.write_text(config.read_text().replace('platform: "onnxruntime_onnx"',
                                                 'backend: "python"'))
    (onnx_file.parent / "model.py").write_text(PY_PARTICLENET)
    write_model(directory, "doubler", DOUBLER_CONFIG, onnx_models.doubler())
    write_model(directory, "strings", STRINGS_CONFIG, onnx_models.string_identity())
    write_model(directory, "broken",
                onnx_models.PARTICLENET_CONFIG.format(name="broken", features=16, classes=5,
                                                      instances=1, extra=""),
                b"this is not an ONNX model")
    write_model(directory, "misnamed",
                onnx_models.PARTICLENET_CONFIG.format(name="misnamed", features=16, classes=5,
                                                      instances=1, extra="").replace(
                                                          "pf_mask", "mask"),
                onnx_models.particlenet_like())
    onnx_models.write_particlenet(
        directory, "bad_threads",
        extra='parameters { key: "intra_op_thread_count" value { string_value: "-3" } }\n')
    return directory


@pytest.fixture(scope="module")
def server(repository):
    # The embedded interpreter is never finalized: a sanitized server's LeakSanitizer would report
    # its allocations at exit.
    os.environ["ASAN_OPTIONS"] = ":".join(
        filter(None, [os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    log_path = sonic_server.output_dir() / "onnxruntime_backend.server.log"
    process = sonic_server.SonicServer(repository, log_path, extra_args=["--exit-on-error=false"])
    yield process
    status = process.stop()
    assert status == 0, f"sonic-server exited with {status}; log:\n{process.log_tail()}"


@pytest.fixture(scope="module")
def client(server):
    with grpcclient.InferenceServerClient(server.grpc_url) as c:
        yield c


def particlenet_infer(client, model, inputs):
    tensors = []
    for name, values in inputs.items():
        tensor = grpcclient.InferInput(name, list(values.shape), "FP32")
        tensor.set_data_from_numpy(values)
        tensors.append(tensor)
    return client.infer(model, tensors).as_numpy("softmax")


def direct(path, inputs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)[0]


@pytest.mark.parametrize("batch,particles", [(1, 5), (7, 30), (64, 50)])
def test_outputs_equal_onnxruntime_in_process(client, repository, batch, particles):
    inputs = onnx_models.particlenet_inputs(batch, particles, seed=batch)
    got = particlenet_infer(client, "particlenet", inputs)
    expected = direct(repository / "particlenet" / "1" / "model.onnx", inputs)
    assert got.shape == (batch, onnx_models.CLASSES)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_concurrent_requests_are_batched_and_answered_each(client, repository):
    requests = [onnx_models.particlenet_inputs(3, 12, seed=100 + i) for i in range(16)]
    answers = queue.Queue()
    for index, inputs in enumerate(requests):
        tensors = []
        for name, values in inputs.items():
            tensor = grpcclient.InferInput(name, list(values.shape), "FP32")
            tensor.set_data_from_numpy(values)
            tensors.append(tensor)
        client.async_infer("particlenet", tensors,
                           callback=functools.partial(lambda i, result, error:
                                                      answers.put((i, result, error)), index))
    path = repository / "particlenet" / "1" / "model.onnx"
    for _ in requests:
        index, result, error = answers.get(timeout=30)
        assert error is None, error
        np.testing.assert_allclose(result.as_numpy("softmax"), direct(path, requests[index]),
                                   rtol=0, atol=TOLERANCE)
    stats = client.get_inference_statistics("particlenet", as_json=True)
    assert int(stats["model_stats"][0]["inference_count"]) >= 16 * 3


def test_thread_parameters_and_graph_level_are_accepted(client, repository):
    assert client.is_model_ready("particlenet_threads")
    inputs = onnx_models.particlenet_inputs(4, 9, seed=4)
    got = particlenet_infer(client, "particlenet_threads", inputs)
    expected = direct(repository / "particlenet_threads" / "1" / "model.onnx", inputs)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_served_beside_a_python_backend_model_in_the_same_interpreter(client, repository):
    inputs = onnx_models.particlenet_inputs(5, 20, seed=5)
    expected = direct(repository / "particlenet" / "1" / "model.onnx", inputs)
    for model in ("particlenet", "py_particlenet", "particlenet"):
        np.testing.assert_allclose(particlenet_infer(client, model, inputs), expected, rtol=0,
                                   atol=TOLERANCE)


def test_int64_model_without_batching(client):
    x = np.array([1, -2, 3, 1 << 40], dtype=np.int64)
    tensor = grpcclient.InferInput("x", [4], "INT64")
    tensor.set_data_from_numpy(x)
    np.testing.assert_array_equal(client.infer("doubler", [tensor]).as_numpy("y"), 2 * x)


def bytes_input(text):
    tensor = grpcclient.InferInput("text", list(text.shape), "BYTES")
    tensor.set_data_from_numpy(text)
    return tensor


def test_bytes_tensors(client):
    text = np.array([[b"pf", b"candidates"], [b"", "\u00e9t\u00e9 jet".encode()]],
                    dtype=np.object_)
    got = client.infer("strings", [bytes_input(text)]).as_numpy("same")
    assert got.tolist() == text.tolist()


def test_bytes_that_are_not_utf8_are_refused(client):
    with pytest.raises(InferenceServerException, match="UTF-8"):
        client.infer("strings", [bytes_input(np.array([[b"ok", b"\xff\x00"]], dtype=np.object_))])
    assert client.infer("strings", [bytes_input(np.array([[b"a", b"b"]], dtype=np.object_))])


def test_config_reports_the_platform(client):
    config = client.get_model_config("doubler", as_json=True)["config"]
    assert config["platform"] == "onnxruntime_onnx"
    assert config["backend"] == "onnxruntime"
    assert config["default_model_filename"] == "model.onnx"


def model_states(client):
    index = client.get_model_repository_index(as_json=True)["models"]
    return {m["name"]: (m.get("state", ""), m.get("reason", "")) for m in index}


@pytest.mark.parametrize("model,reason_part", [
    ("broken", "ONNX Runtime cannot load"),
    ("broken", "InvalidProtobuf: [ONNXRuntimeError]"),
    ("misnamed", "the model needs input 'pf_mask', which the configuration does not declare"),
    ("bad_threads", "config parameter 'intra_op_thread_count'"),
])
def test_broken_models_are_unavailable_with_their_reason(client, model, reason_part):
    state, reason = model_states(client)[model]
    assert state == "UNAVAILABLE"
    assert reason_part in reason
    assert "\n" not in reason
    assert "Traceback" not in reason
    with pytest.raises(InferenceServerException):
        client.infer(model, [grpcclient.InferInput("pf_features", [1, 1, 16], "FP32")])


def test_others_serve_beside_the_broken_ones(client):
    states = model_states(client)
    for model in ("particlenet", "particlenet_threads", "py_particlenet", "doubler", "strings"):
        assert states[model][0] == "READY", states[model]
    inputs = onnx_models.particlenet_inputs(2, 4, seed=2)
    assert particlenet_infer(client, "particlenet", inputs).shape == (2, onnx_models.CLASSES)


def test_unload_and_load_again(client):
    x = np.array([5, 6], dtype=np.int64)
    tensor = grpcclient.InferInput("x", [2], "INT64")
    tensor.set_data_from_numpy(x)
    client.unload_model("doubler")
    assert not client.is_model_ready("doubler")
    client.load_model("doubler")
    assert client.is_model_ready("doubler")
    np.testing.assert_array_equal(client.infer("doubler", [tensor]).as_numpy("y"), 2 * x)


def test_a_missing_python_environment_is_a_clear_reason(tmp_path):
    repository = tmp_path / "models"
    write_model(repository, "doubler", DOUBLER_CONFIG, onnx_models.doubler())
    saved = os.environ.get("SONIC_PYTHON_HOME")
    os.environ["SONIC_PYTHON_HOME"] = str(tmp_path / "no_venv")
    try:
        process = sonic_server.SonicServer(repository, tmp_path / "server.log",
                                           extra_args=["--exit-on-error=false"])
    finally:
        if saved is None:
            del os.environ["SONIC_PYTHON_HOME"]
        else:
            os.environ["SONIC_PYTHON_HOME"] = saved
    try:
        with grpcclient.InferenceServerClient(process.grpc_url) as other:
            state, reason = model_states(other)["doubler"]
    finally:
        assert process.stop() == 0
    assert state == "UNAVAILABLE"
    assert f"no Python 3.11 environment at {tmp_path / 'no_venv'}" in reason
    assert "SONIC_PYTHON_HOME" in reason and "scripts/bootstrap.sh" in reason
