"""Every public method of the stock tritonclient.grpc.aio.InferenceServerClient against sonic-server.

Each test runs its own event loop (asyncio.run) with a client made inside it, as the aio client is
bound to the loop it was made in. Expectations are Triton's behaviour.
"""

import asyncio
import base64
import json
import os

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as aioclient
import tritonclient.utils.shared_memory as shm
from tritonclient.utils import InferenceServerException

from tensors import ALL_TYPES, fp32_batch


def run(server, body):
    """Runs `body(client)` in a fresh event loop with an aio client of `server`."""
    async def main():
        async with aioclient.InferenceServerClient(server.grpc_url) as client:
            return await body(client)
    return asyncio.run(main())


def fp32_input(data, name="INPUT0"):
    tensor = grpcclient.InferInput(name, list(data.shape), "FP32")
    tensor.set_data_from_numpy(data)
    return tensor


async def expect_error(awaitable, *fragments, status=None):
    with pytest.raises(InferenceServerException) as raised:
        await awaitable
    message = raised.value.message()
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the error {message!r}"
    if status is not None:
        assert raised.value.status() == status, (raised.value.status(), message)


def test_health(server):
    async def body(client):
        assert await client.is_server_live() is True
        assert await client.is_server_ready() is True
        assert await client.is_model_ready("identity_fp32") is True
        assert await client.is_model_ready("identity_fp32", "2") is False
        assert await client.is_model_ready("no_such_model") is False
    run(server, body)


def test_metadata_and_config(server):
    async def body(client):
        metadata = await client.get_server_metadata()
        assert metadata.name and metadata.version
        assert {"model_repository", "statistics"} <= set(metadata.extensions)
        assert (await client.get_server_metadata(as_json=True))["version"] == metadata.version
        model = await client.get_model_metadata("identity_fp32", "1")
        assert (model.name, list(model.versions)) == ("identity_fp32", ["1"])
        assert [i.datatype for i in model.inputs] == ["FP32"]
        assert (await client.get_model_metadata("identity_fp32", as_json=True))[
            "platform"] == "identity"
        config = await client.get_model_config("identity_fp32")
        assert config.config.max_batch_size == 8
        assert (await client.get_model_config("identity_fp32", as_json=True))["config"][
            "name"] == "identity_fp32"
        await expect_error(client.get_model_config("no_such_model"), "no_such_model")
        await expect_error(client.get_model_metadata("no_such_model"),
                           "Request for unknown model")
    run(server, body)


def test_repository(server):
    async def body(client):
        index = await client.get_model_repository_index()
        assert "identity_fp32" in {m.name for m in index.models}
        ready = await client.get_model_repository_index(as_json=True)
        entry = [m for m in ready["models"] if m["name"] == "identity_fp32"][0]
        assert (entry["version"], entry["state"]) == ("1", "READY")
        await client.unload_model("identity_reload")
        assert await client.is_model_ready("identity_reload") is False
        config = await client.get_model_config("identity_fp32", as_json=True)
        config = config["config"]
        config["name"] = "identity_reload"
        config["max_batch_size"] = 2
        await client.load_model("identity_reload", config=json.dumps(config))
        assert (await client.get_model_config("identity_reload")).config.max_batch_size == 2
        await client.load_model("identity_reload")
        assert (await client.get_model_config("identity_reload")).config.max_batch_size == 8
        await client.load_model("identity_from_aio_files", config=json.dumps(
            dict(config, name="identity_from_aio_files")), files={"file:1/data.bin": b"\x00"})
        assert await client.is_model_ready("identity_from_aio_files") is True
        await client.unload_model("identity_from_aio_files", unload_dependents=True)
        assert await client.is_model_ready("identity_from_aio_files") is False
        await expect_error(client.load_model("no_such_model"), "no_such_model")
    run(server, body)


def test_statistics(server):
    async def body(client):
        before = (await client.get_inference_statistics("identity_fp32")).model_stats[0]
        await client.infer("identity_fp32", [fp32_input(fp32_batch())])
        after = (await client.get_inference_statistics("identity_fp32", "1")).model_stats[0]
        assert after.inference_stats.success.count == before.inference_stats.success.count + 1
        assert after.inference_count == before.inference_count + 2
        every = await client.get_inference_statistics(as_json=True)
        assert "identity_fp32" in {s["name"] for s in every["model_stats"]}
    run(server, body)


def test_trace_and_log_settings(server):
    async def body(client):
        settings = await client.get_trace_settings()
        assert "trace_rate" in settings.settings
        try:
            updated = await client.update_trace_settings(settings={"trace_rate": "9"})
            assert list(updated.settings["trace_rate"].value) == ["9"]
            model = await client.update_trace_settings(
                model_name="identity_fp32", settings={"trace_level": ["TIMESTAMPS"]})
            assert list(model.settings["trace_level"].value) == ["TIMESTAMPS"]
            got = await client.get_trace_settings(model_name="identity_fp32", as_json=True)
            assert got["settings"]["trace_level"]["value"] == ["TIMESTAMPS"]
        finally:
            await client.update_trace_settings(
                model_name="identity_fp32", settings={"trace_level": None})
            await client.update_trace_settings(settings={"trace_rate": "1000"})
        log = await client.get_log_settings()
        assert "log_verbose_level" in log.settings
        try:
            updated = await client.update_log_settings({"log_verbose_level": 2})
            assert updated.settings["log_verbose_level"].uint32_param == 2
            as_json = await client.get_log_settings(as_json=True)
            assert as_json["settings"]["log_verbose_level"] == {"uint32_param": 2}
        finally:
            await client.update_log_settings({"log_verbose_level": 0})
    run(server, body)


def test_shared_memory(server):
    data = fp32_batch(rows=1, cols=4)
    key = f"/sonic_stock_aio_{os.getpid()}"
    handle = shm.create_shared_memory_region("aio_region", key, 2 * data.nbytes)

    async def body(client):
        shm.set_shared_memory_region(handle, [data])
        await client.register_system_shared_memory("aio_region", key, 2 * data.nbytes)
        try:
            status = await client.get_system_shared_memory_status()
            assert status.regions["aio_region"].byte_size == 2 * data.nbytes
            assert "aio_region" in (await client.get_system_shared_memory_status(
                "aio_region", as_json=True))["regions"]
            tensor = grpcclient.InferInput("INPUT0", [1, 4], "FP32")
            tensor.set_shared_memory("aio_region", data.nbytes)
            output = grpcclient.InferRequestedOutput("OUTPUT0")
            output.set_shared_memory("aio_region", data.nbytes, offset=data.nbytes)
            await client.infer("identity_fp32", [tensor], outputs=[output])
            np.testing.assert_array_equal(
                shm.get_contents_as_numpy(handle, np.float32, [1, 4], offset=data.nbytes), data)
        finally:
            await client.unregister_system_shared_memory("aio_region")
        assert len((await client.get_system_shared_memory_status()).regions) == 0
        await client.unregister_system_shared_memory()

        assert len((await client.get_cuda_shared_memory_status()).regions) == 0
        assert await client.get_cuda_shared_memory_status(as_json=True) == {}
        await expect_error(client.register_cuda_shared_memory(
            "aio_cuda", base64.b64encode(bytes(64)), 0, 64), "aio_cuda")
        await client.unregister_cuda_shared_memory()
        await client.unregister_cuda_shared_memory("aio_cuda")  # Triton: no such region is no error
    try:
        run(server, body)
    finally:
        shm.destroy_shared_memory_region(handle)


def test_infer(server):
    async def body(client):
        inputs = []
        for datatype, values in ALL_TYPES.items():
            tensor = grpcclient.InferInput(f"INPUT_{datatype}", list(values.shape), datatype)
            tensor.set_data_from_numpy(values)
            inputs.append(tensor)
        result = await client.infer("identity_all_types", inputs, request_id="aio-all")
        assert result.get_response().id == "aio-all"
        for datatype, values in ALL_TYPES.items():
            np.testing.assert_array_equal(result.as_numpy(f"OUTPUT_{datatype}"), values)

        data = np.array([[0.25, 2.0, 1.0]], dtype=np.float32)
        result = await client.infer(
            "identity_fp32", [fp32_input(data)], model_version="1",
            outputs=[grpcclient.InferRequestedOutput("OUTPUT0", class_count=1)],
            sequence_id=3, sequence_start=True, sequence_end=True, priority=1,
            timeout=5_000_000, compression_algorithm="gzip", parameters={"custom": "x"})
        assert result.as_numpy("OUTPUT0").tolist() == [[b"2.000000:1"]]
        result = await client.infer("identity_fp32", [fp32_input(data)],
                                    compression_algorithm="deflate")
        np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), data)

        # Requests in flight together on one channel.
        batches = [fp32_batch(start=float(i)) for i in range(4)]
        results = await asyncio.gather(
            *(client.infer("identity_fp32", [fp32_input(b)]) for b in batches))
        for result, batch in zip(results, batches):
            np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), batch)

        wrong = grpcclient.InferInput("INPUT0", [1, 3], "FP64")
        wrong.set_data_from_numpy(data.astype(np.float64))
        await expect_error(client.infer("identity_fp32", [wrong]), "INPUT0",
                           status="StatusCode.INVALID_ARGUMENT")
        await expect_error(client.infer("identity_delay", [fp32_input(np.ones(4, np.float32))],
                                        client_timeout=0.05),
                           status="StatusCode.DEADLINE_EXCEEDED")
        await expect_error(client.infer("no_such_model", [fp32_input(data)]),
                           "Request for unknown model")
    run(server, body)


@pytest.mark.parametrize("compression", [None, "gzip", "deflate"])
def test_stream_infer(server, compression):
    batches = [fp32_batch(start=10.0 * i) for i in range(3)]

    async def requests():
        for i, batch in enumerate(batches):
            yield {"model_name": "identity_fp32", "inputs": [fp32_input(batch)],
                   "request_id": f"a{i}"}
        yield {"model_name": "no_such_model", "inputs": [fp32_input(batches[0])],
               "request_id": "bad"}
        yield {"model_name": "identity_fp32", "inputs": [fp32_input(batches[0])],
               "request_id": "after-error", "sequence_id": 5, "priority": 1}

    async def body(client):
        received = []
        responses = client.stream_infer(requests(), compression_algorithm=compression)
        async for result, error in responses:
            received.append((result, error))
            if len(received) == len(batches) + 2:
                break
        responses.cancel()
        return received

    received = run(server, body)
    errors = [e for r, e in received if e is not None]
    results = {r.get_response().id: r for r, e in received if e is None}
    assert sorted(results) == ["a0", "a1", "a2", "after-error"]
    for i, batch in enumerate(batches):
        response = results[f"a{i}"].get_response()
        assert response.parameters["triton_final_response"].bool_param is True
        np.testing.assert_array_equal(results[f"a{i}"].as_numpy("OUTPUT0"), batch)
    assert len(errors) == 1 and "Request for unknown model" in errors[0].message()


def test_close(server):
    async def body(client):
        other = aioclient.InferenceServerClient(server.grpc_url)
        assert await other.is_server_live() is True
        await other.close()
        return True
    assert run(server, body)
