"""How instances of Python models share the GIL: throughput of 1 vs 2 instances of one model.

sonic-server runs every Python model on one embedded interpreter, so two instances of a model run
Python one at a time and only overlap where the GIL is released (numpy's large kernels, the
server's copies). Two models are measured, each with 1 and then 2 instances, under the same
client load (several threads of the stock tritonclient sending one request after another):
  - gemm: ten 64x256 @ 256x256 float32 products per request (BLAS releases the GIL);
  - python_loop: a pure-Python loop per request (holds the GIL throughout).
BLAS runs single-threaded in the server (OPENBLAS_NUM_THREADS=1), so that the second instance is
the only source of parallelism. Prints requests/s for each, and the 2-instance / 1-instance
ratio; writes them to <out>/python_backend_gil.json (bench_result.py's format: figures without a
target, what the GIL allows). `make bench` runs it; --quick is a short run for CTest.

Usage: SONIC_BUILD_DIR=build .venv/bin/python bench/python_backend_gil.py [--seconds 5]
"""

import argparse
import os
import pathlib
import sys
import tempfile
import threading
import time

import numpy as np
import tritonclient.grpc as grpcclient

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "stock_clients"))
import bench_result  # noqa: E402
import sonic_server  # noqa: E402

GEMM = '''
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def initialize(self, args):
        self.w = np.random.default_rng(0).standard_normal((256, 256), dtype=np.float32) / 16

    def execute(self, requests):
        responses = []
        for request in requests:
            y = pb_utils.get_input_tensor_by_name(request, "X").as_numpy()
            for _ in range(10):
                y = np.tanh(y @ self.w)
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("Y", y)]))
        return responses
'''

PYTHON_LOOP = '''
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "X").as_numpy()
            total = 0.0
            for value in x.ravel().tolist()[:4096]:
                for _ in range(20):
                    total += value * 0.5
            y = np.full_like(x, total)
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("Y", y)]))
        return responses
'''


def config(name, instances):
    return f'''name: "{name}"
backend: "python"
max_batch_size: 0
input [ {{ name: "X" data_type: TYPE_FP32 dims: [ 64, 256 ] }} ]
output [ {{ name: "Y" data_type: TYPE_FP32 dims: [ 64, 256 ] }} ]
instance_group [ {{ kind: KIND_CPU count: {instances} }} ]
'''


def measure(url, model, seconds, threads):
    x = np.random.default_rng(1).standard_normal((64, 256), dtype=np.float32)
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def load(index):
        with grpcclient.InferenceServerClient(url) as client:
            tensor = grpcclient.InferInput("X", [64, 256], "FP32")
            tensor.set_data_from_numpy(x)
            client.infer(model, [tensor])  # warm-up
            while time.monotonic() < stop:
                client.infer(model, [tensor])
                counts[index] += 1

    workers = [threading.Thread(target=load, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.monotonic() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--quick", action="store_true", help="0.5 s per measurement (CTest)")
    options = parser.parse_args()
    if options.quick:
        options.seconds = 0.5
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    figures = []
    with tempfile.TemporaryDirectory() as directory:
        repository = pathlib.Path(directory) / "models"
        for kind, source in (("gemm", GEMM), ("python_loop", PYTHON_LOOP)):
            for instances in (1, 2):
                name = f"{kind}_{instances}"
                (repository / name / "1").mkdir(parents=True)
                (repository / name / "config.pbtxt").write_text(config(name, instances))
                (repository / name / "1" / "model.py").write_text(source)
        server = sonic_server.SonicServer(repository, pathlib.Path(directory) / "server.log")
        try:
            for kind in ("gemm", "python_loop"):
                one = measure(server.grpc_url, f"{kind}_1", options.seconds, options.threads)
                two = measure(server.grpc_url, f"{kind}_2", options.seconds, options.threads)
                figures.append(bench_result.figure(
                    f"{kind}: requests/s with 2 instances / 1 instance", two, "requests/s",
                    f"{kind} with 1 instance", one))
                print(f"{kind:12s} 1 instance {one:8.1f} req/s   2 instances {two:8.1f} req/s"
                      f"   ratio {two / one:.2f}")
        finally:
            server.stop()
    bench_result.write(options.out, "python_backend_gil", figures, notes={
        "load": (f"{options.threads} tritonclient gRPC threads, one request after another, "
                 f"{options.seconds} s per measurement"),
        "gemm": "ten 64x256 @ 256x256 float32 products per request (BLAS releases the GIL)",
        "python_loop": "a pure-Python loop per request (holds the GIL throughout)",
    })


if __name__ == "__main__":
    main()
