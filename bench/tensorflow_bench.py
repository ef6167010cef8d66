"""The tensorflow backend through sonic-server vs TensorFlow in-process, side by side in one run.

A ParticleNet-like GraphDef (--model particlenet_like, the default: per particle of 100 x 16
features a dense 64 -> 64 network, masked mean pooling, a softmax over 5 classes, as the onnxruntime
benchmark's model) or an MLP (--model mlp: tf_test_models.write_mlp_graphdef), one intra- and one
inter-op thread on both sides, at batch 64: the stock perf_analyzer (C++ gRPC client,
`--concurrency-range` requests in flight) against sonic-server, and the same GraphDef run by TensorFlow's own session in this
process, in alternating windows so both see the same load on the machine's shared cores.
Writes <out>/tensorflow_<model>.json (bench_result.py's format; target: sonic-server >= 0.9 x
in-process, median of the rounds' ratios) and prints the throughputs and their ratio. `make bench`
runs it (bench/run_benchmarks.sh); --quick is one short round, for CTest (no speed judged there).

    SONIC_BUILD_DIR=build .venv/bin/python bench/tensorflow_bench.py [--hidden 128] [--rounds 3]
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
sys.path.insert(0, str(ROOT / "src" / "backends" / "tensorflow"))
sys.path.insert(0, str(ROOT / "tests" / "stock_clients"))

import bench_result  # noqa: E402
import numpy as np  # noqa: E402
import sonic_server  # noqa: E402
import tf_test_models  # noqa: E402


PARTICLES, FEATURES, HIDDEN, CLASSES = 100, 16, 64, 5


def write_particlenet_like(repository, name, max_batch_size, seed=5):
    """The ParticleNet-like GraphDef; returns its GraphRunner (pf_features, pf_mask) -> [scores]."""
    import tensorflow as tf  # noqa: PLC0415

    rng = np.random.default_rng(seed)

    def weights(*shape):
        return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)

    graph = tf.Graph()
    with graph.as_default():
        features = tf.compat.v1.placeholder(tf.float32, [None, None, FEATURES], "pf_features")
        mask = tf.compat.v1.placeholder(tf.float32, [None, None, 1], "pf_mask")
        h = features
        for fan_in in (FEATURES, HIDDEN):
            h = tf.nn.relu(tf.tensordot(h, weights(fan_in, HIDDEN), axes=1) + weights(HIDDEN))
        pooled = tf.reduce_sum(h * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
        logits = tf.matmul(pooled, weights(HIDDEN, CLASSES)) + weights(CLASSES)
        tf.nn.softmax(logits, name="scores")
    graph_def = graph.as_graph_def()
    directory = pathlib.Path(repository) / name
    (directory / "1").mkdir(parents=True)
    (directory / "config.pbtxt").write_text(f"""name: "{name}"
platform: "tensorflow_graphdef"
max_batch_size: {max_batch_size}
input [
  {{ name: "pf_features" data_type: TYPE_FP32 dims: [ -1, {FEATURES} ] }},
  {{ name: "pf_mask" data_type: TYPE_FP32 dims: [ -1, 1 ] }}
]
output [ {{ name: "scores" data_type: TYPE_FP32 dims: [ {CLASSES} ] }} ]
parameters {{ key: "TF_NUM_INTRA_THREADS" value {{ string_value: "1" }} }}
parameters {{ key: "TF_NUM_INTER_THREADS" value {{ string_value: "1" }} }}
""")
    (directory / "1" / "model.graphdef").write_bytes(graph_def.SerializeToString())
    return tf_test_models.GraphRunner(graph_def, ["pf_features", "pf_mask"], ["scores"], threads=1)


def inputs_of(model, batch, width):
    """The same random inputs for both sides, in the model's input order."""
    rng = np.random.default_rng(0)
    if model != "particlenet_like":
        return [rng.standard_normal((batch, width)).astype(np.float32)]
    features = rng.standard_normal((batch, PARTICLES, FEATURES)).astype(np.float32)
    mask = np.ones((batch, PARTICLES, 1), dtype=np.float32)
    for event in range(batch):
        mask[event, rng.integers(1, PARTICLES + 1):, 0] = 0.0
    return [features, mask]


def direct_throughput(runner, inputs, batch, seconds):
    runner(*inputs)
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        runner(*inputs)
        calls += 1
    return calls * batch / (time.perf_counter() - start)


def served_throughput(server, model, batch, width, seconds, concurrency, report):
    import nvidia.cuda_runtime  # perf_analyzer needs libcudart.so.12 from this wheel

    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(pathlib.Path(nvidia.cuda_runtime.__path__[0]) / "lib")
    command = [
        str(pathlib.Path(sys.prefix) / "bin" / "perf_analyzer"),
        "-m", model, "-u", server.grpc_url, "-i", "grpc", "-b", str(batch),
        *(["--shape", f"pf_features:{PARTICLES},{FEATURES}", "--shape", f"pf_mask:{PARTICLES},1"]
          if model == "particlenet_like" else ["--shape", f"INPUT0:{width}"]),
        "--concurrency-range", str(concurrency),
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
    parser.add_argument("--model", choices=["particlenet_like", "mlp"], default="particlenet_like")
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
    parser.add_argument("--quick", action="store_true", help="one round of 0.5 s (CTest)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 0.5
    if args.cpus:
        os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})

    model = ("particlenet_like" if args.model == "particlenet_like"
             else f"mlp_{args.width}x{args.hidden}")
    inputs = inputs_of(model, args.batch, args.width)
    with tempfile.TemporaryDirectory() as scratch:
        repository = pathlib.Path(scratch) / "models"
        if args.model == "particlenet_like":
            runner = write_particlenet_like(repository, model, max_batch_size=args.batch)
        else:
            runner = tf_test_models.write_mlp_graphdef(
                repository, name=model, width=args.width, hidden=args.hidden,
                max_batch_size=args.batch)
        server = sonic_server.SonicServer(repository, pathlib.Path(scratch) / "server.log")
        try:
            direct, served = [], []
            for round_index in range(args.rounds):
                direct.append(direct_throughput(runner, inputs, args.batch, args.seconds))
                served.append(served_throughput(
                    server, model, args.batch, args.width, args.seconds, args.concurrency,
                    pathlib.Path(scratch) / f"round{round_index}.csv"))
                print(f"round {round_index}: in-process {direct[-1]:.0f}/s, "
                      f"sonic-server {served[-1]:.0f}/s")
        finally:
            server.stop()
    # Each round's pair ran back to back, so its ratio is the least disturbed by other load: the
    # median of those ratios is what the target judges.
    median_ratio = statistics.median(s / d for s, d in zip(served, direct))
    served_median = statistics.median(served)
    description = (f"ParticleNet-like GraphDef ({PARTICLES} particles x {FEATURES} features, "
                   f"dense {HIDDEN} x 2, masked pooling, {CLASSES} classes)"
                   if args.model == "particlenet_like"
                   else f"MLP {args.width}->{args.hidden}->{args.hidden}->8 GraphDef")
    bench_result.write(
        args.out, f"tensorflow_{model}",
        [bench_result.figure(f"inferences/s at batch {args.batch}, sonic-server / in-process",
                             served_median, "inferences/s", "TensorFlow in-process",
                             served_median / median_ratio, target=0.9)],
        notes={
            "model": f"{description}, 1 TF thread",
            "load": (f"perf_analyzer, batch {args.batch}, concurrency {args.concurrency}; "
                     f"{args.rounds} alternating rounds of {args.seconds} s; cpus "
                     f"{args.cpus or 'all'}"),
            "floor_value": "the served median divided by the median of the rounds' ratios",
        },
        tables={"in_process_inferences_per_s": {f"round {i}": v for i, v in enumerate(direct)},
                "served_inferences_per_s": {f"round {i}": v for i, v in enumerate(served)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
