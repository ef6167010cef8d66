"""Every public method of the stock tritonclient.http.InferenceServerClient against sonic-server.

Runs against the HTTP endpoint the server announces with "sonic-server: http on ADDR:PORT".
Expectations are Triton's behaviour.
"""

import base64
import json
import os

import numpy as np
import pytest
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm
from tritonclient.utils import InferenceServerException

from tensors import ALL_TYPES, JSON_TYPES, fp32_batch

@pytest.fixture(scope="module")
def client(server):
    assert server.http_url is not None, "sonic-server printed no 'sonic-server: http on' line"
    c = httpclient.InferenceServerClient(server.http_url, concurrency=4)
    yield c
    c.close()


def fp32_input(data, name="INPUT0", binary=True):
    tensor = httpclient.InferInput(name, list(data.shape), "FP32")
    tensor.set_data_from_numpy(data, binary_data=binary)
    return tensor


def typed_inputs(binary):
    """All inputs of identity_all_types (Triton requires every non-optional input). In JSON, the
    types JSON cannot carry (FP16, BF16) still travel as binary data, in the same request."""
    inputs = []
    for datatype, values in ALL_TYPES.items():
        in_json = not binary and datatype in JSON_TYPES
        values = JSON_TYPES[datatype] if in_json else values
        tensor = httpclient.InferInput(f"INPUT_{datatype}", list(values.shape), datatype)
        tensor.set_data_from_numpy(values, binary_data=not in_json)
        inputs.append(tensor)
    return inputs


def expect_error(call, *fragments):
    with pytest.raises(InferenceServerException) as raised:
        call()
    message = raised.value.message()
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the error {message!r}"
    return raised.value


def test_health(client):
    assert client.is_server_live() is True
    assert client.is_server_ready() is True
    assert client.is_model_ready("identity_fp32") is True
    assert client.is_model_ready("identity_fp32", model_version="1") is True
    assert client.is_model_ready("identity_fp32", model_version="2") is False
    assert client.is_model_ready("no_such_model") is False


def test_metadata_and_config(client):
    metadata = client.get_server_metadata()
    assert metadata["name"] and metadata["version"]
    assert {"binary_tensor_data", "model_repository", "statistics"} <= set(metadata["extensions"])
    model = client.get_model_metadata("identity_fp32")
    assert model["name"] == "identity_fp32" and model["versions"] == ["1"]
    assert model["platform"] == "identity"
    assert model["inputs"] == [{"name": "INPUT0", "datatype": "FP32", "shape": [-1, -1]}]
    assert model["outputs"] == [{"name": "OUTPUT0", "datatype": "FP32", "shape": [-1, -1]}]
    assert client.get_model_metadata("identity_fp32", model_version="1")["name"] == "identity_fp32"
    config = client.get_model_config("identity_fp32")
    assert config["name"] == "identity_fp32" and config["max_batch_size"] == 8
    assert config["input"][0]["data_type"] == "TYPE_FP32"
    expect_error(lambda: client.get_model_metadata("no_such_model"), "Request for unknown model")
    expect_error(lambda: client.get_model_config("no_such_model"), "no_such_model")


def test_repository(client, repository):
    index = {m["name"]: m for m in client.get_model_repository_index()}
    assert index["identity_fp32"]["state"] == "READY"
    assert index["identity_fp32"]["version"] == "1"
    client.unload_model("identity_reload")
    assert client.is_model_ready("identity_reload") is False
    index = {m["name"]: m for m in client.get_model_repository_index()}
    assert (index["identity_reload"]["state"], index["identity_reload"]["reason"]) == (
        "UNAVAILABLE", "unloaded")
    config = client.get_model_config("identity_fp32")
    config.update(name="identity_reload", max_batch_size=3)
    client.load_model("identity_reload", config=json.dumps(config))
    assert client.get_model_config("identity_reload")["max_batch_size"] == 3
    client.load_model("identity_reload")
    assert client.get_model_config("identity_reload")["max_batch_size"] == 8
    # Files travel base64-encoded in the JSON body.
    client.load_model("identity_from_http_files", config=json.dumps(
        dict(config, name="identity_from_http_files")), files={"file:1/data.bin": b"\x00\x01"})
    assert client.is_model_ready("identity_from_http_files") is True
    client.unload_model("identity_from_http_files", unload_dependents=True)
    assert client.is_model_ready("identity_from_http_files") is False
    expect_error(lambda: client.load_model("no_such_model"), "no_such_model")


def test_statistics(client):
    def stats():
        return client.get_inference_statistics("identity_fp32")["model_stats"][0]
    before = stats()
    client.infer("identity_fp32", [fp32_input(fp32_batch())])
    after = stats()
    assert after["name"] == "identity_fp32" and after["version"] == "1"
    assert after["inference_stats"]["success"]["count"] == (
        before["inference_stats"]["success"]["count"] + 1)
    assert after["inference_count"] == before["inference_count"] + 2
    every = client.get_inference_statistics()
    assert "identity_all_types" in {s["name"] for s in every["model_stats"]}
    assert client.get_inference_statistics("identity_fp32", "1")["model_stats"][0]["name"] == (
        "identity_fp32")
    expect_error(lambda: client.get_inference_statistics("no_such_model"), "no_such_model")


def test_trace_settings(client):
    settings = client.get_trace_settings()
    assert settings["trace_level"] == ["OFF"] and settings["trace_rate"] == "1000"
    try:
        updated = client.update_trace_settings(settings={"trace_rate": "4",
                                                         "trace_level": ["TIMESTAMPS"]})
        assert updated["trace_rate"] == "4" and updated["trace_level"] == ["TIMESTAMPS"]
        model = client.update_trace_settings(model_name="identity_fp32",
                                             settings={"trace_count": "2"})
        assert model["trace_count"] == "2" and model["trace_rate"] == "4"
        assert client.get_trace_settings(model_name="identity_fp32")["trace_count"] == "2"
        cleared = client.update_trace_settings(model_name="identity_fp32",
                                               settings={"trace_count": None})
        assert cleared["trace_count"] == "-1"
        expect_error(lambda: client.update_trace_settings(settings={"trace_rate": "abc"}),
                     "trace_rate")
    finally:
        client.update_trace_settings(settings={"trace_rate": "1000", "trace_level": ["OFF"]})


def test_log_settings(client):
    settings = client.get_log_settings()
    assert settings["log_info"] is True and settings["log_verbose_level"] == 0
    assert settings["log_format"] == "default"
    try:
        updated = client.update_log_settings({"log_verbose_level": 1, "log_warning": False})
        assert updated["log_verbose_level"] == 1 and updated["log_warning"] is False
        assert client.get_log_settings()["log_verbose_level"] == 1
        expect_error(lambda: client.update_log_settings({"log_file": "/tmp/sonic_stock.log"}))
    finally:
        client.update_log_settings({"log_verbose_level": 0, "log_warning": True})


def test_system_shared_memory(client):
    data = fp32_batch(rows=1, cols=4)
    size = data.nbytes
    key = f"/sonic_stock_http_{os.getpid()}"
    handle = shm.create_shared_memory_region("http_region", key, 2 * size)
    try:
        shm.set_shared_memory_region(handle, [data])
        client.register_system_shared_memory("http_region", key, 2 * size)
        status = client.get_system_shared_memory_status()
        assert [(r["name"], r["key"], r["offset"], r["byte_size"]) for r in status] == [
            ("http_region", key, 0, 2 * size)]
        assert client.get_system_shared_memory_status("http_region")[0]["name"] == "http_region"
        tensor = httpclient.InferInput("INPUT0", [1, 4], "FP32")
        tensor.set_shared_memory("http_region", size)
        output = httpclient.InferRequestedOutput("OUTPUT0")
        output.set_shared_memory("http_region", size, offset=size)
        result = client.infer("identity_fp32", [tensor], outputs=[output])
        assert result.get_output("OUTPUT0")["shape"] == [1, 4]
        np.testing.assert_array_equal(
            shm.get_contents_as_numpy(handle, np.float32, [1, 4], offset=size), data)
        expect_error(lambda: client.register_system_shared_memory("http_region", key, size),
                     "http_region")
        client.unregister_system_shared_memory("http_region")
        assert client.get_system_shared_memory_status() == []
        client.unregister_system_shared_memory()
    finally:
        client.unregister_system_shared_memory()
        shm.destroy_shared_memory_region(handle)


def test_cuda_shared_memory_without_a_device_region(client):
    assert client.get_cuda_shared_memory_status() == []
    bogus = base64.b64encode(bytes(64)).decode()
    expect_error(lambda: client.register_cuda_shared_memory("http_cuda", bogus, 0, 64),
                 "http_cuda")
    client.unregister_cuda_shared_memory("http_cuda")
    client.unregister_cuda_shared_memory()


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_infer_every_datatype(client, binary):
    types = ALL_TYPES if binary else JSON_TYPES
    outputs = [httpclient.InferRequestedOutput(f"OUTPUT_{t}", binary_data=binary) for t in types]
    result = client.infer("identity_all_types", typed_inputs(binary), outputs=outputs,
                          request_id=f"all-{binary}")
    response = result.get_response()
    assert response["model_name"] == "identity_all_types" and response["id"] == f"all-{binary}"
    assert [o["name"] for o in response["outputs"]] == [f"OUTPUT_{t}" for t in types]
    for datatype, values in types.items():
        got = result.as_numpy(f"OUTPUT_{datatype}")
        if datatype == "BYTES" and not binary:  # JSON strings come back as str
            values = np.array([v.decode() for v in values], dtype=np.object_)
        np.testing.assert_array_equal(got, values)
        assert result.get_output(f"OUTPUT_{datatype}")["datatype"] == datatype


def test_infer_default_outputs_and_requested_outputs(client):
    result = client.infer("identity_all_types", typed_inputs(binary=False))
    assert {o["name"] for o in result.get_response()["outputs"]} == {
        f"OUTPUT_{t}" for t in ALL_TYPES}
    result = client.infer("identity_all_types", typed_inputs(binary=True),
                          outputs=[httpclient.InferRequestedOutput("OUTPUT_FP16")])
    assert [o["name"] for o in result.get_response()["outputs"]] == ["OUTPUT_FP16"]
    np.testing.assert_array_equal(result.as_numpy("OUTPUT_FP16"), ALL_TYPES["FP16"])


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_infer_classification(client, binary):
    data = np.array([[0.5, 3.0, 1.0]], dtype=np.float32)
    output = httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary, class_count=2)
    result = client.infer("identity_fp32", [fp32_input(data)], outputs=[output])
    classes = [c.decode() if isinstance(c, bytes) else c
               for c in result.as_numpy("OUTPUT0").reshape(-1)]
    assert classes == ["3.000000:1", "1.000000:2"]


def test_infer_parameters(client):
    data = fp32_batch()
    for kwargs in ({"priority": 1}, {"timeout": 10_000_000},
                   {"sequence_id": 8, "sequence_start": True, "sequence_end": True},
                   {"parameters": {"custom": "x", "custom_int": 2}},
                   {"request_compression_algorithm": "gzip",
                    "response_compression_algorithm": "gzip"},
                   {"request_compression_algorithm": "deflate",
                    "response_compression_algorithm": "deflate"}):
        result = client.infer("identity_fp32", [fp32_input(data)], **kwargs)
        np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), data)


def test_async_infer(client):
    batches = [fp32_batch(start=float(i)) for i in range(4)]
    pending = [client.async_infer("identity_fp32", [fp32_input(b)], request_id=str(i))
               for i, b in enumerate(batches)]
    for i, (request, batch) in enumerate(zip(pending, batches)):
        result = request.get_result(timeout=10)
        assert result.get_response()["id"] == str(i)
        np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), batch)


def test_request_body_helpers(client):
    data = fp32_batch()
    body, json_size = httpclient.InferenceServerClient.generate_request_body(
        [fp32_input(data)], outputs=[httpclient.InferRequestedOutput("OUTPUT0")])
    assert json_size is not None and len(body) == json_size + data.nbytes
    result = client.infer("identity_fp32", [fp32_input(data)])
    raw = json.dumps(result.get_response()).encode()
    parsed = httpclient.InferenceServerClient.parse_response_body(raw)
    assert parsed.get_response()["model_name"] == "identity_fp32"


def test_errors(client):
    data = fp32_batch()
    expect_error(lambda: client.infer("no_such_model", [fp32_input(data)]),
                 "Request for unknown model", "no_such_model")
    wrong_shape = fp32_input(np.zeros((2, 2, 2), dtype=np.float32))
    expect_error(lambda: client.infer("identity_fp32", [wrong_shape]), "INPUT0")
    wrong_type = httpclient.InferInput("INPUT0", [1, 2], "INT32")
    wrong_type.set_data_from_numpy(np.array([[1, 2]], dtype=np.int32))
    expect_error(lambda: client.infer("identity_fp32", [wrong_type]), "INPUT0", "INT32", "FP32")
    expect_error(lambda: client.infer("identity_fp32", [fp32_input(data)],
                                      outputs=[httpclient.InferRequestedOutput("NO_SUCH")]),
                 "NO_SUCH")
