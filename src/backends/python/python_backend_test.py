"""The python backend through the real sonic-server, queried with the stock tritonclient.

The test writes a repository of model.py models (add/sub with dynamic batching, a BYTES and FP32
identity, one that raises, one that fails one request of a batch with a TritonError, one whose
model.py does not import, one that records initialize's args and its finalize) and checks what a
Triton user would see: outputs equal to numpy's, batches reaching execute as one list, the
traceback in the error, the broken model UNAVAILABLE with its reason while the others serve, and
finalize called when the model is unloaded.
"""

import json
import pathlib
import sys
import threading
import time

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "tests" / "stock_clients"))
import sonic_server  # noqa: E402

ADD_SUB = '''
import json
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        out = pb_utils.get_output_config_by_name(config, "OUTPUT0")
        self.out_dtype = pb_utils.triton_string_to_numpy(out["data_type"])

    def execute(self, requests):
        responses = []
        for request in requests:
            a = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            b = pb_utils.get_input_tensor_by_name(request, "INPUT1").as_numpy()
            count = np.full((a.shape[0], 1), len(requests), dtype=np.int32)
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("OUTPUT0", (a + b).astype(self.out_dtype)),
                pb_utils.Tensor("OUTPUT1", (a - b).astype(self.out_dtype)),
                pb_utils.Tensor("REQUESTS", count),
            ]))
        return responses
'''

ADD_SUB_CONFIG = '''name: "py_add_sub"
backend: "python"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] },
        { name: "INPUT1" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] },
         { name: "OUTPUT1" data_type: TYPE_FP32 dims: [ 4 ] },
         { name: "REQUESTS" data_type: TYPE_INT32 dims: [ 1 ] } ]
dynamic_batching { max_queue_delay_microseconds: 3000000 }
'''

IDENTITY = '''
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def execute(self, requests):
        return [pb_utils.InferenceResponse(output_tensors=[
                    pb_utils.Tensor("OUT_F", pb_utils.get_input_tensor_by_name(r, "IN_F").as_numpy()),
                    pb_utils.Tensor("OUT_S", pb_utils.get_input_tensor_by_name(r, "IN_S").as_numpy()),
                ]) for r in requests]
'''

IDENTITY_CONFIG = '''name: "py_identity"
backend: "python"
max_batch_size: 0
input [ { name: "IN_F" data_type: TYPE_FP32 dims: [ -1 ] },
        { name: "IN_S" data_type: TYPE_STRING dims: [ -1 ] } ]
output [ { name: "OUT_F" data_type: TYPE_FP32 dims: [ -1 ] },
         { name: "OUT_S" data_type: TYPE_STRING dims: [ -1 ] } ]
'''

RAISING = '''
import triton_python_backend_utils as pb_utils

def fail_deeply(value):
    raise ValueError(f"boom from model.py: {value}")

class TritonPythonModel:
    def execute(self, requests):
        fail_deeply(len(requests))
'''

PARTIAL = '''
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            if (x < 0).any():
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(
                    "negative input refused", pb_utils.TritonError.INVALID_ARG)))
                continue
            count = np.full((x.shape[0], 1), len(requests), dtype=np.int32)
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("OUTPUT0", np.sqrt(x)), pb_utils.Tensor("REQUESTS", count)]))
        return responses
'''

PARTIAL_CONFIG = '''name: "py_partial"
backend: "python"
max_batch_size: 4
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 3 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 3 ] },
         { name: "REQUESTS" data_type: TYPE_INT32 dims: [ 1 ] } ]
dynamic_batching { max_queue_delay_microseconds: 3000000 }
'''

BROKEN = '''
import no_such_module_for_sonic_tests
class TritonPythonModel:
    def execute(self, requests):
        return []
'''

MISBEHAVING = '''
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def execute(self, requests):
        x = pb_utils.get_input_tensor_by_name(requests[0], "INPUT0").as_numpy()
        if x[0] == 3:
            return []
        out = {1: x.astype(np.float64), 2: x[:2]}.get(int(x[0]), x)
        return [pb_utils.InferenceResponse([pb_utils.Tensor("OUTPUT0", out)])]
'''

LIFECYCLE = '''
import json
import pathlib
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.marker = pathlib.Path(config["parameters"]["marker"]["string_value"])
        (self.marker / "args.json").write_text(json.dumps(args))

    def execute(self, requests):
        return [pb_utils.InferenceResponse(output_tensors=[
            pb_utils.Tensor("OUT", pb_utils.get_input_tensor_by_name(r, "IN").as_numpy() * 2)])
            for r in requests]

    def finalize(self):
        (self.marker / "finalized").write_text("yes")
'''


def lifecycle_config(marker):
    return f'''name: "py_lifecycle"
backend: "python"
max_batch_size: 0
input [ {{ name: "IN" data_type: TYPE_INT64 dims: [ 2 ] }} ]
output [ {{ name: "OUT" data_type: TYPE_INT64 dims: [ 2 ] }} ]
parameters {{ key: "marker" value {{ string_value: "{marker}" }} }}
'''


def simple_config(name, max_batch_size=0):
    return f'''name: "{name}"
backend: "python"
max_batch_size: {max_batch_size}
input [ {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 3 ] }} ]
output [ {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 3 ] }} ]
'''


def write_model(repository, name, config, model_py):
    version = repository / name / "1"
    version.mkdir(parents=True)
    (repository / name / "config.pbtxt").write_text(config)
    (version / "model.py").write_text(model_py)


@pytest.fixture(scope="module")
def marker(tmp_path_factory):
    return tmp_path_factory.mktemp("lifecycle")


@pytest.fixture(scope="module")
def server(tmp_path_factory, marker):
    repository = tmp_path_factory.mktemp("python_backend") / "models"
    repository.mkdir()
    write_model(repository, "py_add_sub", ADD_SUB_CONFIG, ADD_SUB)
    write_model(repository, "py_identity", IDENTITY_CONFIG, IDENTITY)
    write_model(repository, "py_raise", simple_config("py_raise"), RAISING)
    write_model(repository, "py_partial", PARTIAL_CONFIG, PARTIAL)
    write_model(repository, "py_broken", simple_config("py_broken"), BROKEN)
    write_model(repository, "py_misbehaving", simple_config("py_misbehaving"), MISBEHAVING)
    write_model(repository, "py_lifecycle", lifecycle_config(marker), LIFECYCLE)
    log_path = sonic_server.output_dir() / "python_backend_test.server.log"
    # py_broken fails to load: the others serve.
    process = sonic_server.SonicServer(repository, log_path, ["--exit-on-error=false"])
    yield process
    process.stop()


@pytest.fixture
def client(server):
    with grpcclient.InferenceServerClient(server.grpc_url) as client:
        yield client


def fp32(name, data):
    tensor = grpcclient.InferInput(name, list(data.shape), "FP32")
    tensor.set_data_from_numpy(data)
    return tensor


def infer_concurrently(client, model, input_sets, outputs):
    """Sends every request of `input_sets` at once; returns (result or exception) per request."""
    results = [None] * len(input_sets)
    done = threading.Semaphore(0)

    def callback(index):
        def on_done(result, error):
            results[index] = error if error is not None else result
            done.release()
        return on_done

    for index, inputs in enumerate(input_sets):
        client.async_infer(model, inputs, callback(index),
                           outputs=[grpcclient.InferRequestedOutput(o) for o in outputs])
    for _ in input_sets:
        assert done.acquire(timeout=60)
    return results


def test_add_sub_matches_numpy_and_batches_reach_execute_as_one_list(client):
    rng = np.random.default_rng(7)
    pairs = [(rng.standard_normal((1, 4), dtype=np.float32),
              rng.standard_normal((1, 4), dtype=np.float32)) for _ in range(4)]
    pairs.append((rng.standard_normal((4, 4), dtype=np.float32),
                  rng.standard_normal((4, 4), dtype=np.float32)))
    results = infer_concurrently(
        client, "py_add_sub", [[fp32("INPUT0", a), fp32("INPUT1", b)] for a, b in pairs],
        ["OUTPUT0", "OUTPUT1", "REQUESTS"])
    seen = set()
    for (a, b), result in zip(pairs, results):
        assert not isinstance(result, Exception), result
        np.testing.assert_allclose(result.as_numpy("OUTPUT0"), a + b, rtol=0, atol=1e-5)
        np.testing.assert_allclose(result.as_numpy("OUTPUT1"), a - b, rtol=0, atol=1e-5)
        requests = result.as_numpy("REQUESTS")
        assert requests.shape == (a.shape[0], 1)
        seen.add(int(requests[0, 0]))
    # 8 rows fill max_batch_size: the four single-row requests came in one execute call.
    assert max(seen) >= 2, f"execute never got several requests: {seen}"


def test_bytes_and_unbatched_identity(client):
    values = np.array([1.5, -2.0, 3.25], dtype=np.float32)
    strings = np.array([b"alpha", b"", "gr\u00fc\u00df".encode()], dtype=np.object_)
    s = grpcclient.InferInput("IN_S", [3], "BYTES")
    s.set_data_from_numpy(strings)
    result = client.infer("py_identity", [fp32("IN_F", values), s])
    np.testing.assert_array_equal(result.as_numpy("OUT_F"), values)
    assert list(result.as_numpy("OUT_S")) == list(strings)


def test_exception_in_execute_reaches_the_client_with_its_traceback(client):
    with pytest.raises(InferenceServerException) as raised:
        client.infer("py_raise", [fp32("INPUT0", np.ones(3, dtype=np.float32))])
    message = raised.value.message()
    assert "Traceback (most recent call last)" in message, message
    assert "fail_deeply" in message and "ValueError: boom from model.py: 1" in message, message
    # The server and the model keep serving: the same error again, not a dead model.
    with pytest.raises(InferenceServerException) as again:
        client.infer("py_raise", [fp32("INPUT0", np.ones(3, dtype=np.float32))])
    assert "boom from model.py" in again.value.message()
    assert client.is_model_ready("py_raise")


def test_triton_error_fails_only_its_request_of_the_batch(client):
    good = np.array([[1.0, 4.0, 9.0]], dtype=np.float32)
    bad = np.array([[1.0, -4.0, 9.0]], dtype=np.float32)
    more = np.array([[16.0, 25.0, 36.0]], dtype=np.float32)
    results = infer_concurrently(
        client, "py_partial", [[fp32("INPUT0", x)] for x in (good, bad, more, good)],
        ["OUTPUT0", "REQUESTS"])
    assert isinstance(results[1], InferenceServerException), results[1]
    assert "negative input refused" in results[1].message()
    assert results[1].status() == "StatusCode.INVALID_ARGUMENT", results[1].status()
    for index, x in ((0, good), (2, more), (3, good)):
        assert not isinstance(results[index], Exception), results[index]
        np.testing.assert_allclose(results[index].as_numpy("OUTPUT0"), np.sqrt(x), atol=1e-5)
    # Four requests fill max_batch_size 4: one execute call got them all, the failing one too.
    assert int(results[0].as_numpy("REQUESTS")[0, 0]) == 4


def test_malformed_results_are_errors_with_the_reason(client):
    def error_of(first):
        x = np.array([first, 0.5, 0.25], dtype=np.float32)
        with pytest.raises(InferenceServerException) as raised:
            client.infer("py_misbehaving", [fp32("INPUT0", x)])
        return raised.value.message()

    assert "float64" in error_of(1) and "float32" in error_of(1)
    assert "shape" in error_of(2)
    assert "returned 0 responses for 1 requests" in error_of(3)
    x = np.array([4.0, 0.5, 0.25], dtype=np.float32)
    np.testing.assert_array_equal(client.infer("py_misbehaving", [fp32("INPUT0", x)])
                                  .as_numpy("OUTPUT0"), x)


def test_model_that_does_not_import_is_unavailable_with_its_reason(client):
    index = {m.name: m for m in client.get_model_repository_index().models}
    assert index["py_broken"].state == "UNAVAILABLE"
    assert "No module named 'no_such_module_for_sonic_tests'" in index["py_broken"].reason
    assert not client.is_model_ready("py_broken")
    for name in ("py_add_sub", "py_identity", "py_partial", "py_lifecycle"):
        assert index[name].state == "READY", (name, index[name])


def test_initialize_args_and_finalize_at_unload(client, marker):
    args = json.loads((marker / "args.json").read_text())
    assert args["model_name"] == "py_lifecycle"
    assert args["model_version"] == "1"
    assert args["model_instance_kind"] == "CPU"
    assert args["model_instance_name"].startswith("py_lifecycle")
    assert pathlib.Path(args["model_repository"]).name == "py_lifecycle"
    config = json.loads(args["model_config"])
    assert config["name"] == "py_lifecycle" and config["input"][0]["dims"] == [2]

    x = grpcclient.InferInput("IN", [2], "INT64")
    x.set_data_from_numpy(np.array([3, -5], dtype=np.int64))
    result = client.infer("py_lifecycle", [x])
    np.testing.assert_array_equal(result.as_numpy("OUT"), [6, -10])

    assert not (marker / "finalized").exists()
    client.unload_model("py_lifecycle")
    deadline = time.monotonic() + 20
    while not (marker / "finalized").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (marker / "finalized").read_text() == "yes"
    assert client.is_model_ready("py_add_sub")
