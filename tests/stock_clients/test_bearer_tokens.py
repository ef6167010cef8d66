"""Bearer tokens from the stock clients: tritonclient.grpc and .http send a JWT as a header
(`headers={"authorization": "Bearer ..."}`), perf_analyzer with -H; sonic-server checks it.

The tokens are HS256 JWTs made here with the standard library (RFC 7519: base64url JSON header
and claims, HMAC-SHA256 over both), so no JWT package is needed.
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

import sonic_server
from test_perf_analyzer import cuda_runtime_dir, perf_analyzer_binary

SECRET = b"stock-client-test-secret-0123456789abcdef"
AUDIENCE = "sonic"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(scope, lifetime_s=600, secret=SECRET):
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"aud": AUDIENCE, "exp": int(time.time()) + lifetime_s,
                              "scope": scope}).encode())
    signature = hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64(signature)}"


def bearer(scope, **kwargs):
    return {"authorization": f"Bearer {make_token(scope, **kwargs)}"}


@pytest.fixture(scope="module")
def server(repository, tmp_path_factory):
    secret_file = tmp_path_factory.mktemp("tokens") / "secret"
    secret_file.write_bytes(SECRET)
    log_path = sonic_server.output_dir() / "bearer_tokens.server.log"
    process = sonic_server.SonicServer(
        repository, log_path,
        extra_args=["--auth-secret-file", str(secret_file), "--auth-audience", AUDIENCE])
    yield process
    process.stop()


def fp32_inputs(module):
    data = np.arange(8, dtype=np.float32).reshape(2, 4)
    tensor = module.InferInput("INPUT0", [2, 4], "FP32")
    tensor.set_data_from_numpy(data)
    return data, [tensor]


def test_grpc_client_sends_the_token(server):
    with grpcclient.InferenceServerClient(server.grpc_url) as client:
        assert client.is_server_live()
        assert client.is_server_ready()
        data, inputs = fp32_inputs(grpcclient)
        with pytest.raises(InferenceServerException) as refused:
            client.infer("identity_fp32", inputs)
        assert "UNAUTHENTICATED" in str(refused.value.status())
        result = client.infer("identity_fp32", inputs, headers=bearer("sonic.inference"))
        np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), data)
        with pytest.raises(InferenceServerException) as denied:
            client.get_inference_statistics(headers=bearer("sonic.inference"))
        assert "PERMISSION_DENIED" in str(denied.value.status())
        with pytest.raises(InferenceServerException) as expired:
            client.infer("identity_fp32", inputs, headers=bearer("sonic.inference", lifetime_s=-3600))
        assert "expired" in expired.value.message()


def test_http_client_sends_the_token(server):
    with httpclient.InferenceServerClient(server.http_url) as client:
        assert client.is_server_live()
        data, inputs = fp32_inputs(httpclient)
        with pytest.raises(InferenceServerException) as refused:
            client.infer("identity_fp32", inputs)
        assert refused.value.status() == "401"
        result = client.infer("identity_fp32", inputs,
                              headers={"Authorization": bearer("sonic.inference")["authorization"]})
        np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), data)
        with pytest.raises(InferenceServerException) as forged:
            client.infer("identity_fp32", inputs,
                         headers=bearer("sonic.inference", secret=b"another-secret-of-enough-length-0123"))
        assert forged.value.status() == "401"


def test_perf_analyzer_sends_the_token(server, tmp_path):
    token = make_token("sonic.inference sonic.statistics")
    command = [
        str(perf_analyzer_binary()),
        "-m", "identity_fp32", "-u", server.grpc_url, "-i", "grpc", "--shape", "INPUT0:16",
        "--concurrency-range", "1", "--measurement-interval", "300",
        "--stability-percentage", "200", "--max-trials", "10",
        "-H", f"authorization: Bearer {token}",
    ]
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join(
        filter(None, [str(cuda_runtime_dir()), env.get("LD_LIBRARY_PATH", "")]))
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    without = subprocess.run(command[:-2], capture_output=True, text=True, env=env, timeout=120)
    assert without.returncode != 0
