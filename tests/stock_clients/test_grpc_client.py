"""Every public method of the stock tritonclient.grpc.InferenceServerClient against sonic-server.

Expectations are Triton's behaviour (its protocol extensions and gRPC frontend), not sonic-server's.
"""

import base64
import json
import os
import queue
import time

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.utils.shared_memory as shm
from tritonclient.utils import InferenceServerException

from tensors import ALL_TYPES, fp32_batch

RESPONSE_WAIT_S = 10
# Extensions Triton lists that this suite exercises through gRPC (cuda_shared_memory is left out: a
# server built without CUDA does not claim it; binary_tensor_data is HTTP's).
EXERCISED_EXTENSIONS = {
    "classification",
    "model_repository",
    "model_configuration",
    "system_shared_memory",
    "parameters",
    "statistics",
    "trace",
    "logging",
}


@pytest.fixture(scope="module")
def client(server):
    with grpcclient.InferenceServerClient(server.grpc_url) as c:
        yield c


def fp32_input(data, name="INPUT0"):
    tensor = grpcclient.InferInput(name, list(data.shape), "FP32")
    tensor.set_data_from_numpy(data)
    return tensor


def typed_inputs(changes=None):
    """All inputs of identity_all_types (Triton requires every non-optional input), from ALL_TYPES
    with `changes` (datatype -> values) applied."""
    types = dict(ALL_TYPES, **(changes or {}))
    inputs = []
    for datatype, values in types.items():
        tensor = grpcclient.InferInput(f"INPUT_{datatype}", list(values.shape), datatype)
        tensor.set_data_from_numpy(values)
        inputs.append(tensor)
    return inputs


def assert_echoed(result, output, expected):
    got = result.as_numpy(output)
    assert got is not None, f"no {output} in the response"
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def expect_error(call, *fragments, status=None):
    """Runs `call`, which must raise InferenceServerException; returns it."""
    with pytest.raises(InferenceServerException) as raised:
        call()
    message = raised.value.message()
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the error {message!r}"
    if status is not None:
        assert raised.value.status() == status, (raised.value.status(), message)
    return raised.value


# --- health and metadata -------------------------------------------------------------------------

def test_server_live_and_ready(client):
    assert client.is_server_live() is True
    assert client.is_server_ready() is True


def test_model_ready(client):
    assert client.is_model_ready("identity_fp32") is True
    assert client.is_model_ready("identity_fp32", model_version="1") is True
    # Triton answers ready=false (no error) for a missing version or an unknown model.
    assert client.is_model_ready("identity_fp32", model_version="2") is False
    assert client.is_model_ready("no_such_model") is False


def test_server_metadata(client):
    metadata = client.get_server_metadata()
    assert metadata.name
    assert metadata.version
    missing = EXERCISED_EXTENSIONS - set(metadata.extensions)
    assert not missing, f"extensions lack {sorted(missing)}: {list(metadata.extensions)}"
    as_json = client.get_server_metadata(as_json=True)
    assert as_json["name"] == metadata.name
    assert as_json["extensions"] == list(metadata.extensions)


def test_model_metadata(client):
    metadata = client.get_model_metadata("identity_fp32")
    assert metadata.name == "identity_fp32"
    assert list(metadata.versions) == ["1"]
    assert metadata.platform == "identity"  # the backend, as the config has no platform
    assert [(t.name, t.datatype, list(t.shape)) for t in metadata.inputs] == [
        ("INPUT0", "FP32", [-1, -1])
    ]
    assert [(t.name, t.datatype, list(t.shape)) for t in metadata.outputs] == [
        ("OUTPUT0", "FP32", [-1, -1])
    ]
    assert client.get_model_metadata("identity_fp32", model_version="1").name == "identity_fp32"
    as_json = client.get_model_metadata("identity_all_types", as_json=True)
    assert [i["datatype"] for i in as_json["inputs"]] == list(ALL_TYPES)
    assert all(i["shape"] == ["-1"] for i in as_json["inputs"])  # int64 is a string in proto JSON


def test_model_metadata_unknown_model(client):
    expect_error(lambda: client.get_model_metadata("no_such_model"),
                 "Request for unknown model", "no_such_model")


def test_model_config(client):
    config = client.get_model_config("identity_fp32").config
    assert config.name == "identity_fp32"
    assert config.backend == "identity"
    assert config.max_batch_size == 8
    assert [(i.name, i.data_type, list(i.dims)) for i in config.input] == [
        ("INPUT0", grpcclient.model_config_pb2.TYPE_FP32, [-1])
    ]
    as_json = client.get_model_config("identity_all_types", as_json=True)["config"]
    assert as_json["name"] == "identity_all_types"
    assert {i["data_type"] for i in as_json["input"]} == {
        "TYPE_STRING" if t == "BYTES" else f"TYPE_{t}" for t in ALL_TYPES
    }
    expect_error(lambda: client.get_model_config("no_such_model"), "no_such_model")


# --- model repository ----------------------------------------------------------------------------

def index_entry(client, name):
    entries = [m for m in client.get_model_repository_index().models if m.name == name]
    return entries[0] if entries else None


def test_repository_index(client):
    index = client.get_model_repository_index()
    names = {m.name for m in index.models}
    assert {"identity_fp32", "identity_delay", "identity_all_types", "identity_reload"} <= names
    entry = index_entry(client, "identity_fp32")
    assert (entry.version, entry.state) == ("1", "READY")
    as_json = client.get_model_repository_index(as_json=True)
    assert any(m["name"] == "identity_fp32" for m in as_json["models"])


def test_unload_and_load(client):
    client.unload_model("identity_reload")
    assert client.is_model_ready("identity_reload") is False
    entry = index_entry(client, "identity_reload")
    assert entry is not None, "an unloaded model stays in the repository index"
    assert (entry.state, entry.reason) == ("UNAVAILABLE", "unloaded")
    expect_error(lambda: client.infer("identity_reload", [fp32_input(fp32_batch())]),
                 "identity_reload")
    client.load_model("identity_reload")
    assert client.is_model_ready("identity_reload") is True
    data = fp32_batch()
    assert_echoed(client.infer("identity_reload", [fp32_input(data)]), "OUTPUT0", data)


def test_load_with_config_override(client):
    config = client.get_model_config("identity_reload", as_json=True)["config"]
    config["max_batch_size"] = 4
    client.load_model("identity_reload", config=json.dumps(config))
    try:
        assert client.get_model_config("identity_reload").config.max_batch_size == 4
        assert list(client.get_model_metadata("identity_reload").inputs[0].shape) == [-1, -1]
        expect_error(lambda: client.infer("identity_reload", [fp32_input(fp32_batch(rows=5))]),
                     status="StatusCode.INVALID_ARGUMENT")
    finally:
        client.load_model("identity_reload")  # back to the repository's config.pbtxt
    assert client.get_model_config("identity_reload").config.max_batch_size == 8


def test_load_with_files(client, repository):
    # The override directory holds a real model file where the build has the pytorch backend, so
    # the loaded model is shown to be the files' (same outputs as the repository's copy).
    source = "torch_mlp" if (repository / "torch_mlp" / "1" / "model.pt").is_file() else None
    if source:
        config = client.get_model_config(source, as_json=True)["config"]
        files = {"file:1/model.pt": (repository / source / "1" / "model.pt").read_bytes()}
        data = np.linspace(-1, 1, 32, dtype=np.float32).reshape(2, 16)
        name, input_name, output_name = "mlp_from_files", "INPUT__0", "OUTPUT__0"
    else:
        config = client.get_model_config("identity_reload", as_json=True)["config"]
        files = {"file:1/weights.bin": b"\x01\x02\x03"}
        data = fp32_batch()
        name, input_name, output_name = "identity_from_files", "INPUT0", "OUTPUT0"
    config["name"] = name
    client.load_model(name, config=json.dumps(config), files=files)
    try:
        assert client.is_model_ready(name) is True
        result = client.infer(name, [fp32_input(data, input_name)])
        expected = (client.infer(source, [fp32_input(data, input_name)]).as_numpy(output_name)
                    if source else data)
        np.testing.assert_allclose(result.as_numpy(output_name), expected, rtol=1e-6)
    finally:
        client.unload_model(name)
    assert client.is_model_ready(name) is False


def test_load_unknown_model(client):
    expect_error(lambda: client.load_model("no_such_model"), "no_such_model")


# --- statistics ----------------------------------------------------------------------------------

def model_stats(client, name):
    stats = client.get_inference_statistics(name).model_stats
    assert [s.name for s in stats] == [name]
    return stats[0]


def test_inference_statistics(client):
    before = model_stats(client, "identity_all_types")
    for _ in range(3):
        client.infer("identity_all_types", typed_inputs())
    after = model_stats(client, "identity_all_types")
    assert after.version == "1"
    assert after.inference_stats.success.count - before.inference_stats.success.count == 3
    assert after.inference_count - before.inference_count == 3  # no batch dimension: 1 each
    assert after.execution_count - before.execution_count == 3
    for phase in ("queue", "compute_input", "compute_infer", "compute_output"):
        delta = (getattr(after.inference_stats, phase).count
                 - getattr(before.inference_stats, phase).count)
        assert delta == 3, phase
    assert after.last_inference > 0 and after.last_inference >= before.last_inference
    everything = client.get_inference_statistics()
    assert {"identity_fp32", "identity_all_types"} <= {s.name for s in everything.model_stats}
    as_json = client.get_inference_statistics("identity_all_types", model_version="1",
                                              as_json=True)
    assert as_json["model_stats"][0]["name"] == "identity_all_types"
    expect_error(lambda: client.get_inference_statistics("no_such_model"), "no_such_model")


# --- trace and log settings ----------------------------------------------------------------------

def trace_values(response):
    return {key: list(value.value) for key, value in response.settings.items()}


def test_trace_settings(client):
    settings = trace_values(client.get_trace_settings())
    assert {"trace_level", "trace_rate", "trace_count", "log_frequency", "trace_file",
            "trace_mode"} <= set(settings), settings
    # Triton's defaults.
    assert settings["trace_level"] == ["OFF"]
    assert settings["trace_rate"] == ["1000"]
    assert settings["trace_count"] == ["-1"]
    assert settings["log_frequency"] == ["0"]
    assert settings["trace_mode"] == ["triton"]
    try:
        updated = trace_values(client.update_trace_settings(
            settings={"trace_rate": "5", "trace_level": ["TIMESTAMPS"]}))
        assert updated["trace_rate"] == ["5"] and updated["trace_level"] == ["TIMESTAMPS"]
        assert trace_values(client.get_trace_settings())["trace_rate"] == ["5"]
        # A model's settings start as a copy of the global ones.
        model = trace_values(client.update_trace_settings(
            model_name="identity_fp32", settings={"trace_count": "7"}))
        assert model["trace_count"] == ["7"] and model["trace_rate"] == ["5"]
        assert trace_values(client.get_trace_settings(model_name="identity_fp32")) == model
        assert trace_values(client.get_trace_settings())["trace_count"] == ["-1"]
        # A setting given without a value is cleared back to the global one.
        cleared = trace_values(client.update_trace_settings(
            model_name="identity_fp32", settings={"trace_count": None}))
        assert cleared["trace_count"] == ["-1"]
        as_json = client.get_trace_settings(as_json=True)
        assert as_json["settings"]["trace_rate"]["value"] == ["5"]
        expect_error(lambda: client.update_trace_settings(settings={"trace_rate": "abc"}),
                     "trace_rate")
    finally:
        client.update_trace_settings(settings={"trace_rate": "1000", "trace_level": ["OFF"]})


def test_log_settings(client):
    settings = client.get_log_settings().settings
    assert {"log_file", "log_info", "log_warning", "log_error", "log_verbose_level",
            "log_format"} <= set(settings), list(settings)
    assert settings["log_info"].bool_param is True
    assert settings["log_verbose_level"].uint32_param == 0
    assert settings["log_format"].string_param == "default"
    try:
        updated = client.update_log_settings({"log_verbose_level": 1, "log_info": False}).settings
        assert updated["log_verbose_level"].uint32_param == 1
        assert updated["log_info"].bool_param is False
        assert client.get_log_settings(as_json=True)["settings"]["log_verbose_level"] == {
            "uint32_param": 1}
        # The log file cannot be changed over the network; an unknown format is refused.
        expect_error(lambda: client.update_log_settings({"log_file": "/tmp/sonic_stock.log"}))
        expect_error(lambda: client.update_log_settings({"log_format": "no_such_format"}),
                     "no_such_format")
    finally:
        client.update_log_settings({"log_verbose_level": 0, "log_info": True})


# --- shared memory -------------------------------------------------------------------------------

def test_system_shared_memory(client):
    data = fp32_batch(rows=1, cols=4)
    size = data.nbytes
    key_in, key_out = f"/sonic_stock_in_{os.getpid()}", f"/sonic_stock_out_{os.getpid()}"
    # The input region holds junk first and the input at an offset, to check offsets are honoured.
    handle_in = shm.create_shared_memory_region("stock_in", key_in, 2 * size)
    handle_out = shm.create_shared_memory_region("stock_out", key_out, size)
    try:
        shm.set_shared_memory_region(handle_in, [np.full(4, -7, dtype=np.float32), data])
        client.register_system_shared_memory("stock_in", key_in, 2 * size)
        client.register_system_shared_memory("stock_out", key_out, size)
        regions = client.get_system_shared_memory_status().regions
        assert set(regions) == {"stock_in", "stock_out"}
        assert (regions["stock_in"].key, regions["stock_in"].offset,
                regions["stock_in"].byte_size) == (key_in, 0, 2 * size)
        one = client.get_system_shared_memory_status(region_name="stock_out").regions
        assert list(one) == ["stock_out"]
        assert client.get_system_shared_memory_status(as_json=True)["regions"]["stock_out"][
            "key"] == key_out

        tensor = grpcclient.InferInput("INPUT0", [1, 4], "FP32")
        tensor.set_shared_memory("stock_in", size, offset=size)
        output = grpcclient.InferRequestedOutput("OUTPUT0")
        output.set_shared_memory("stock_out", size)
        result = client.infer("identity_fp32", [tensor], outputs=[output])
        described = result.get_output("OUTPUT0")
        assert list(described.shape) == [1, 4] and described.datatype == "FP32"
        np.testing.assert_array_equal(
            shm.get_contents_as_numpy(handle_out, np.float32, [1, 4]), data)

        expect_error(lambda: client.register_system_shared_memory("stock_in", key_in, size),
                     "stock_in")
        expect_error(lambda: client.register_system_shared_memory(
            "stock_missing", "/sonic_stock_no_such_key", size))
        expect_error(lambda: client.register_system_shared_memory(
            "stock_too_big", key_out, 1 << 20))
        expect_error(lambda: client.get_system_shared_memory_status(region_name="no_such"),
                     "no_such")

        client.unregister_system_shared_memory("stock_in")
        assert list(client.get_system_shared_memory_status().regions) == ["stock_out"]
        client.unregister_system_shared_memory()
        assert len(client.get_system_shared_memory_status().regions) == 0
        client.unregister_system_shared_memory("stock_in")  # Triton: no such region is no error
    finally:
        client.unregister_system_shared_memory()
        shm.destroy_shared_memory_region(handle_in)
        shm.destroy_shared_memory_region(handle_out)


def test_cuda_shared_memory_without_a_device_region(client):
    assert len(client.get_cuda_shared_memory_status().regions) == 0
    assert client.get_cuda_shared_memory_status(as_json=True) == {}
    expect_error(lambda: client.get_cuda_shared_memory_status(region_name="no_such"), "no_such")
    # A handle that no process exported: refused (no GPU, or the IPC handle does not open).
    bogus = base64.b64encode(bytes(64))
    expect_error(lambda: client.register_cuda_shared_memory("stock_cuda", bogus, 0, 64),
                 "stock_cuda")
    assert len(client.get_cuda_shared_memory_status().regions) == 0
    client.unregister_cuda_shared_memory()
    client.unregister_cuda_shared_memory("stock_cuda")  # Triton: no such region is no error


# --- inference -----------------------------------------------------------------------------------

def test_infer_every_datatype(client):
    result = client.infer("identity_all_types", typed_inputs())
    response = result.get_response()
    assert response.model_name == "identity_all_types"
    assert response.model_version == "1"
    assert {o.name for o in response.outputs} == {f"OUTPUT_{t}" for t in ALL_TYPES}
    for datatype, values in ALL_TYPES.items():
        assert result.get_output(f"OUTPUT_{datatype}").datatype == datatype
        assert_echoed(result, f"OUTPUT_{datatype}", values)


@pytest.mark.parametrize("datatype", list(ALL_TYPES))
def test_infer_one_datatype(client, datatype):
    values = np.concatenate([ALL_TYPES[datatype][::-1], ALL_TYPES[datatype][:1]])
    result = client.infer("identity_all_types", typed_inputs({datatype: values}),
                          outputs=[grpcclient.InferRequestedOutput(f"OUTPUT_{datatype}")])
    assert_echoed(result, f"OUTPUT_{datatype}", values)


def test_infer_requested_outputs(client):
    outputs = [grpcclient.InferRequestedOutput("OUTPUT_INT16"),
               grpcclient.InferRequestedOutput("OUTPUT_BYTES")]
    result = client.infer("identity_all_types", typed_inputs(), outputs=outputs,
                          request_id="requested-outputs")
    response = result.get_response()
    assert response.id == "requested-outputs"
    assert [o.name for o in response.outputs] == ["OUTPUT_INT16", "OUTPUT_BYTES"]
    assert_echoed(result, "OUTPUT_INT16", ALL_TYPES["INT16"])
    assert_echoed(result, "OUTPUT_BYTES", ALL_TYPES["BYTES"])
    assert result.as_numpy("OUTPUT_FP32") is None


def test_infer_classification(client):
    data = np.array([[0.5, 3.0, 1.0, -2.0], [4.0, -1.0, 2.5, 0.0]], dtype=np.float32)
    output = grpcclient.InferRequestedOutput("OUTPUT0", class_count=2)
    result = client.infer("identity_fp32", [fp32_input(data)], outputs=[output])
    assert result.get_output("OUTPUT0").datatype == "BYTES"
    classes = result.as_numpy("OUTPUT0")
    assert classes.shape == (2, 2)
    # Triton's "<value>:<index>" strings, highest first, per batch item.
    assert classes.tolist() == [[b"3.000000:1", b"1.000000:2"], [b"4.000000:0", b"2.500000:2"]]


def test_infer_priority_timeout_and_parameters(client):
    data = fp32_batch()
    for kwargs in ({"priority": 1}, {"priority": 100}, {"timeout": 10_000_000},
                   {"parameters": {"custom_text": "x", "custom_int": 3, "custom_flag": True,
                                   "custom_float": 0.5}}):
        assert_echoed(client.infer("identity_fp32", [fp32_input(data)], **kwargs),
                      "OUTPUT0", data)


def test_infer_sequence_parameters_on_a_plain_model(client):
    # A model without the sequence batcher ignores sequence parameters.
    data = fp32_batch()
    for kwargs in ({"sequence_id": 42, "sequence_start": True},
                   {"sequence_id": 42}, {"sequence_id": 42, "sequence_end": True},
                   {"sequence_id": "corr-7", "sequence_start": True, "sequence_end": True}):
        assert_echoed(client.infer("identity_fp32", [fp32_input(data)], **kwargs),
                      "OUTPUT0", data)


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_infer_compression(client, algorithm):
    data = fp32_batch(rows=8, cols=256)
    result = client.infer("identity_fp32", [fp32_input(data)], compression_algorithm=algorithm)
    assert_echoed(result, "OUTPUT0", data)


def test_infer_client_timeout(client):
    data = np.ones(4, dtype=np.float32)
    expect_error(lambda: client.infer("identity_delay", [fp32_input(data)], client_timeout=0.05),
                 "Deadline", status="StatusCode.DEADLINE_EXCEEDED")
    # The server goes on serving once the abandoned request completes.
    assert_echoed(client.infer("identity_delay", [fp32_input(data)]), "OUTPUT0", data)


def test_async_infer(client):
    results = queue.Queue()
    data = [fp32_batch(start=10.0 * i) for i in range(4)]
    for i, batch in enumerate(data):
        client.async_infer("identity_fp32", [fp32_input(batch)],
                           callback=lambda result, error: results.put((result, error)),
                           request_id=str(i))
    seen = {}
    for _ in data:
        result, error = results.get(timeout=RESPONSE_WAIT_S)
        assert error is None, error
        seen[result.get_response().id] = result.as_numpy("OUTPUT0")
    assert sorted(seen) == ["0", "1", "2", "3"]
    for i, batch in enumerate(data):
        np.testing.assert_array_equal(seen[str(i)], batch)

    client.async_infer("no_such_model", [fp32_input(data[0])],
                       callback=lambda result, error: results.put((result, error)))
    result, error = results.get(timeout=RESPONSE_WAIT_S)
    assert result is None and error is not None
    assert "Request for unknown model" in error.message(), error.message()


# --- streaming -----------------------------------------------------------------------------------

def collect(responses, count):
    return [responses.get(timeout=RESPONSE_WAIT_S) for _ in range(count)]


@pytest.mark.parametrize("empty_final", [False, True])
@pytest.mark.parametrize("compression", [None, "gzip"])
def test_stream_infer(client, empty_final, compression):
    responses = queue.Queue()
    client.start_stream(callback=lambda result, error: responses.put((result, error)),
                        compression_algorithm=compression)
    try:
        data = [fp32_batch(start=100.0 * i) for i in range(3)]
        for i, batch in enumerate(data):
            client.async_stream_infer("identity_fp32", [fp32_input(batch)], request_id=f"s{i}",
                                      enable_empty_final_response=empty_final)
        received = collect(responses, len(data))
    finally:
        client.stop_stream()
    # A model that is not decoupled gives exactly one response per request, marked final; no
    # empty final response follows even when asked for.
    assert responses.empty(), "more responses than requests"
    for (result, error), (i, batch) in zip(received, enumerate(data)):
        assert error is None, error
        response = result.get_response()
        assert response.id == f"s{i}"
        assert response.parameters["triton_final_response"].bool_param is True
        np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), batch)


def test_stream_errors_keep_the_stream_open(client):
    responses = queue.Queue()
    client.start_stream(callback=lambda result, error: responses.put((result, error)))
    try:
        data = fp32_batch()
        bad_shape = grpcclient.InferInput("INPUT0", [2, 2, 2], "FP32")
        bad_shape.set_data_from_numpy(np.zeros((2, 2, 2), dtype=np.float32))
        client.async_stream_infer("no_such_model", [fp32_input(data)], request_id="e0")
        client.async_stream_infer("identity_fp32", [bad_shape], request_id="e1")
        client.async_stream_infer("identity_fp32", [fp32_input(data)], request_id="ok",
                                  sequence_id=9, sequence_start=True, priority=1)
        received = collect(responses, 3)
    finally:
        client.stop_stream()
    errors = [e for r, e in received if e is not None]
    results = [r for r, e in received if e is None]
    assert len(errors) == 2 and len(results) == 1
    assert results[0].get_response().id == "ok"
    np.testing.assert_array_equal(results[0].as_numpy("OUTPUT0"), data)
    assert any("INPUT0" in e.message() for e in errors), [e.message() for e in errors]
    assert any("Request for unknown model" in e.message() for e in errors), [
        e.message() for e in errors]


def test_stop_stream_waits_for_pending_responses(client):
    responses = queue.Queue()
    data = np.ones(4, dtype=np.float32)
    client.start_stream(callback=lambda result, error: responses.put((result, error)))
    client.async_stream_infer("identity_delay", [fp32_input(data)])
    client.stop_stream()  # blocks until the 300 ms request has answered
    result, error = responses.get(timeout=RESPONSE_WAIT_S)
    assert error is None, error
    np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), data)


# --- errors --------------------------------------------------------------------------------------

def test_infer_unknown_model(client):
    expect_error(lambda: client.infer("no_such_model", [fp32_input(fp32_batch())]),
                 "Request for unknown model", "no_such_model")


def test_infer_wrong_shape(client):
    wrong_rank = grpcclient.InferInput("INPUT0", [2, 2, 2], "FP32")
    wrong_rank.set_data_from_numpy(np.zeros((2, 2, 2), dtype=np.float32))
    expect_error(lambda: client.infer("identity_fp32", [wrong_rank]), "INPUT0",
                 status="StatusCode.INVALID_ARGUMENT")
    expect_error(lambda: client.infer("identity_fp32", [fp32_input(fp32_batch(rows=9))]), "8",
                 status="StatusCode.INVALID_ARGUMENT")
    # Shape and data disagree: 2x4 elements announced, 4 sent.
    short = fp32_input(np.zeros((1, 4), dtype=np.float32))
    short.set_shape([2, 4])
    expect_error(lambda: client.infer("identity_fp32", [short]), "INPUT0",
                 status="StatusCode.INVALID_ARGUMENT")


def test_infer_wrong_datatype(client):
    wrong = grpcclient.InferInput("INPUT0", [1, 2], "INT32")
    wrong.set_data_from_numpy(np.array([[1, 2]], dtype=np.int32))
    expect_error(lambda: client.infer("identity_fp32", [wrong]), "INPUT0", "INT32", "FP32",
                 status="StatusCode.INVALID_ARGUMENT")


def test_infer_unknown_input_and_output(client):
    unknown = grpcclient.InferInput("NO_SUCH_INPUT", [1, 2], "FP32")
    unknown.set_data_from_numpy(np.zeros((1, 2), dtype=np.float32))
    expect_error(lambda: client.infer("identity_fp32", [fp32_input(fp32_batch()), unknown]),
                 "NO_SUCH_INPUT", status="StatusCode.INVALID_ARGUMENT")
    expect_error(lambda: client.infer("identity_fp32", [fp32_input(fp32_batch())],
                                      outputs=[grpcclient.InferRequestedOutput("NO_SUCH")]),
                 "NO_SUCH", status="StatusCode.INVALID_ARGUMENT")


def test_server_survives_the_suite(client, server):
    time.sleep(0.1)
    assert server.running()
    assert client.is_server_live() is True
