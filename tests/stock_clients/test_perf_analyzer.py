"""The stock perf_analyzer (from the tritonclient wheel) against sonic-server over gRPC.

perf_analyzer is NVIDIA's C++ client: it sends every request with the parameter
triton_enable_empty_final_response and asks for server-side statistics, so a server that refuses
either fails here. Each run is short: two concurrency levels, short measurement windows.
"""

import csv
import os
import pathlib
import subprocess
import sys

import pytest

RUN_TIMEOUT_S = 120


def perf_analyzer_binary():
    binary = pathlib.Path(sys.prefix) / "bin" / "perf_analyzer"
    if not binary.is_file():
        raise RuntimeError(f"no perf_analyzer at {binary} (run scripts/bootstrap.sh)")
    return binary


def cuda_runtime_dir():
    """The folder of libcudart.so.12 from the nvidia-cuda-runtime-cu12 wheel."""
    import nvidia.cuda_runtime
    return pathlib.Path(nvidia.cuda_runtime.__path__[0]) / "lib"


MODES = {
    "sync": ["--sync"],
    "async": ["--async"],
    "streaming": ["--streaming"],
    "sync_system_shm": ["--sync", "--shared-memory", "system",
                        "--output-shared-memory-size", "4096"],
}


@pytest.mark.parametrize("mode", list(MODES))
def test_perf_analyzer(server, tmp_path, mode):
    report = tmp_path / f"{mode}.csv"
    command = [
        str(perf_analyzer_binary()),
        "-m", "identity_fp32",
        "-u", server.grpc_url,
        "-i", "grpc",
        "--shape", "INPUT0:16",
        "--concurrency-range", "1:2",
        # Short windows, with a stability band wide enough for a shared 2-core machine: this
        # checks that perf_analyzer works, not how fast.
        "--measurement-interval", "300",
        "--stability-percentage", "200",
        "--max-trials", "10",
        "-f", str(report),
        *MODES[mode],
    ]
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join(
        p for p in (str(cuda_runtime_dir()), env.get("LD_LIBRARY_PATH", "")) if p)
    run = subprocess.run(command, env=env, capture_output=True, text=True,
                         timeout=RUN_TIMEOUT_S, check=False)
    output = f"$ {' '.join(command)}\n{run.stdout}\n{run.stderr}"
    assert run.returncode == 0, output
    with open(report, newline="") as f:
        rows = list(csv.DictReader(f))
    # perf_analyzer orders the rows by throughput.
    assert sorted(row["Concurrency"] for row in rows) == ["1", "2"], output
    for row in rows:
        assert float(row["Inferences/Second"]) > 0, (row, output)
    assert server.running()
