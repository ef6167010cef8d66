"""The tensorflow backend through sonic-server vs TensorFlow in-process, side by side in one run.

An MLP GraphDef (tf_test_models.write_mlp_graphdef, one intra- and one inter-op thread on both
sides) at batch 64: the stock perf_analyzer (C++ gRPC client, `--concurrency-range` requests in
flight) against sonic-server, and the same GraphDef run by TensorFlow's own session in this
process, in alternating windows so both see the same load on the machine's shared cores.
Writes <out>/tensorflow_<model>.json and prints the throughputs and their ratio.

    SONIC_BUILD_DIR=build .venv/bin/python bench/tensorflow_bench.py [--hidden 128] [--rounds 3]
"""

import argparse
import csv
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src" / "backends" / "tensorflow"))
sys.path.insert(0, str(ROOT / "tests" / "stock_clients"))

import numpy as np  # noqa: E402
import sonic_server  # noqa: E402
import tf_test_models  # noqa: E402


def direct_throughput(runner, batch, seconds):
    x = np.random.default_rng(0).standard_normal((batch, runner.width)).astype(np.float32)
    runner(x)
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        runner(x)
        calls += 1
    return calls * batch / (time.perf_counter() - start)


def served_throughput(server, model, batch, width, seconds, concurrency, report):
    import nvidia.cuda_runtime  # perf_analyzer needs libcudart.so.12 from this wheel

    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(pathlib.Path(nvidia.cuda_runtime.__path__[0]) / "lib")
    command = [
        str(pathlib.Path(sys.prefix) / "bin" / "perf_analyzer"),
        "-m", model, "-u", server.grpc_url, "-i", "grpc", "-b", str(batch),
        "--shape", f"INPUT0:{width}", "--concurrency-range", str(concurrency),
        "--measurement-interval", str(int(seconds * 1000)), "--stability-percentage", "200",
        "--max-trials", "5", "-f", str(report),
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"perf_analyzer failed:\n{run.stdout}\n{run.stderr}")
    with open(report, newline="") as f:
        return float(next(csv.DictReader(f))["Inferences/Second"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=128, help="hidden layer width")
    parser.add_argument("--width", type=int, default=32, help="input width")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating windows of each")
    parser.add_argument("--seconds", type=float, default=3.0, help="window length")
    parser.add_argument("--cpus", default="",
                        help="pin this process, the server and perf_analyzer to these cores "
                             "(e.g. 0): the client's cost then counts against the server")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    if args.cpus:
        os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})

    model = f"mlp_{args.width}x{args.hidden}"
    with tempfile.TemporaryDirectory() as scratch:
        repository = pathlib.Path(scratch) / "models"
        runner = tf_test_models.write_mlp_graphdef(
            repository, name=model, width=args.width, hidden=args.hidden,
            max_batch_size=args.batch)
        runner.width = args.width
        server = sonic_server.SonicServer(repository, pathlib.Path(scratch) / "server.log")
        try:
            direct, served = [], []
            for round_index in range(args.rounds):
                direct.append(direct_throughput(runner, args.batch, args.seconds))
                served.append(served_throughput(
                    server, model, args.batch, args.width, args.seconds, args.concurrency,
                    pathlib.Path(scratch) / f"round{round_index}.csv"))
                print(f"round {round_index}: in-process {direct[-1]:.0f}/s, "
                      f"sonic-server {served[-1]:.0f}/s")
        finally:
            server.stop()
    result = {
        "scenario": f"tensorflow_{model}",
        "model": f"MLP {args.width}->{args.hidden}->{args.hidden}->8 GraphDef, 1 TF thread",
        "batch": args.batch,
        "concurrency": args.concurrency,
        "cpus": args.cpus or "all",
        "direct_inferences_per_s": statistics.median(direct),
        "served_inferences_per_s": statistics.median(served),
        "ratio": statistics.median(served) / statistics.median(direct),
        "rounds": {"direct": direct, "served": served},
    }
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{result['scenario']}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("direct_inferences_per_s",
                                             "served_inferences_per_s", "ratio")}))


if __name__ == "__main__":
    main()
