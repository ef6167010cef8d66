"""The onnxruntime backend through sonic-server vs ONNX Runtime in-process, side by side in one run.

The ParticleNet-like model of tests/onnxruntime/onnx_models.py (per-particle MLP over 100 particles
of 16 features, masked pooling, dense head) at batch 64, one intra-op thread on both sides: the
stock perf_analyzer (C++ gRPC client, `--concurrency` requests in flight) against sonic-server, and
an InferenceSession of the same file in this process, in alternating windows so both see the same
load on the machine's shared cores. Writes <out>/onnxruntime_particlenet_like.json
(bench_result.py's format; target: sonic-server >= 0.9 x in-process, median of the rounds'
ratios) and prints the
throughputs and their ratio. `make bench` runs it (bench/run_benchmarks.sh); --quick is one short
round, for CTest (no speed judged there).

    SONIC_BUILD_DIR=build .venv/bin/python bench/onnxruntime_bench.py [--rounds 3] [--seconds 3]
"""

import argparse
import csv
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "onnxruntime"))
sys.path.insert(0, str(ROOT / "tests" / "stock_clients"))

import bench_result  # noqa: E402
import onnxruntime as ort  # noqa: E402
import onnx_models  # noqa: E402
import sonic_server  # noqa: E402

ONE_THREAD = """parameters { key: "intra_op_thread_count" value { string_value: "1" } }
parameters { key: "inter_op_thread_count" value { string_value: "1" } }
"""


def direct_throughput(session, inputs, batch, seconds):
    session.run(None, inputs)
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(None, inputs)
        calls += 1
    return calls * batch / (time.perf_counter() - start)


def served_throughput(server, args, report):
    import nvidia.cuda_runtime  # perf_analyzer needs libcudart.so.12 from this wheel

    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(pathlib.Path(nvidia.cuda_runtime.__path__[0]) / "lib")
    command = [
        str(pathlib.Path(sys.prefix) / "bin" / "perf_analyzer"),
        "-m", "particlenet_like", "-u", server.grpc_url, "-i", "grpc", "-b", str(args.batch),
        "--shape", f"pf_features:{args.particles},{onnx_models.FEATURES}",
        "--shape", f"pf_mask:{args.particles},1",
        "--concurrency-range", str(args.concurrency),
        "--measurement-interval", str(int(args.seconds * 1000)),
        "--stability-percentage", "200", "--max-trials", "5", "-f", str(report),
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"perf_analyzer failed:\n{run.stdout}\n{run.stderr}")
    with open(report, newline="") as f:
        return float(next(csv.DictReader(f))["Inferences/Second"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--particles", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    parser.add_argument("--instances", type=int, default=1,
                        help="sonic-server instances (each its own session and thread)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating windows of each")
    parser.add_argument("--seconds", type=float, default=3.0, help="window length")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--quick", action="store_true", help="one round of 0.5 s (CTest)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 0.5

    with tempfile.TemporaryDirectory() as scratch:
        repository = pathlib.Path(scratch) / "models"
        path = onnx_models.write_particlenet(repository, "particlenet_like",
                                             instances=args.instances, extra=ONE_THREAD)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inputs = onnx_models.particlenet_inputs(args.batch, args.particles)
        server = sonic_server.SonicServer(repository, pathlib.Path(scratch) / "server.log")
        try:
            direct, served = [], []
            for round_index in range(args.rounds):
                direct.append(direct_throughput(session, inputs, args.batch, args.seconds))
                served.append(served_throughput(
                    server, args, pathlib.Path(scratch) / f"round{round_index}.csv"))
                print(f"round {round_index}: in-process {direct[-1]:.0f}/s, "
                      f"sonic-server {served[-1]:.0f}/s")
        finally:
            server.stop()
    round_ratios = [s / d for s, d in zip(served, direct)]
    # Each round's pair ran back to back, so its ratio is the least disturbed by other load: the
    # median of those ratios is what the target judges.
    median_ratio = statistics.median(round_ratios)
    served_median = statistics.median(served)
    bench_result.write(
        args.out, "onnxruntime_particlenet_like",
        [bench_result.figure(f"inferences/s at batch {args.batch}, sonic-server / in-process",
                             served_median, "inferences/s", "ONNX Runtime in-process",
                             served_median / median_ratio, target=0.9)],
        notes={
            "model": (f"ParticleNet-like ONNX ({args.particles} particles x "
                      f"{onnx_models.FEATURES} features, MLP {onnx_models.HIDDEN}), 1 ONNX Runtime "
                      f"thread, onnxruntime {ort.__version__}"),
            "load": (f"perf_analyzer, batch {args.batch}, concurrency {args.concurrency}, "
                     f"{args.instances} server instance(s); {args.rounds} alternating rounds of "
                     f"{args.seconds} s"),
            "floor_value": "the served median divided by the median of the rounds' ratios",
        },
        tables={"in_process_inferences_per_s": {f"round {i}": v for i, v in enumerate(direct)},
                "served_inferences_per_s": {f"round {i}": v for i, v in enumerate(served)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
