"""sonic perf against the stock perf_analyzer: small inferences per second of one sonic-server.

Both tools measure the same server and model (identity, one FP32 tensor of 256 elements = 1 KiB,
one CPU instance, no dynamic batching) at 1, 2, 4 and 8 requests in flight, in alternating runs
so that they see the same load on the machine's shared cores. perf_analyzer is NVIDIA's C++
client (from the pinned perf-analyzer wheel), so `sonic perf`'s figures are checked by a tool this
project did not write: the figure per concurrency is sonic perf / perf_analyzer (information, no
target: the two clients differ in their own cost per request). Writes <out>/perf_tools.json
(bench_result.py's format) with the most inferences/s either tool measured. `make bench` runs it
(bench/run_benchmarks.sh); --quick is one short round at concurrency 1 and 2, for CTest.

    SONIC_BUILD_DIR=build .venv/bin/python bench/perf_tools_bench.py [--rounds 2] [--seconds 2]
"""

import argparse
import csv
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "stock_clients"))

import bench_result  # noqa: E402
import sonic_server  # noqa: E402

ELEMENTS = 256
IDENTITY_CONFIG = """name: "identity"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
"""


def perf_analyzer_command():
    import nvidia.cuda_runtime  # perf_analyzer needs libcudart.so.12 from this wheel

    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(pathlib.Path(nvidia.cuda_runtime.__path__[0]) / "lib")
    return [str(pathlib.Path(sys.prefix) / "bin" / "perf_analyzer")], env


def sonic_perf_command():
    return [str(sonic_server.build_dir() / "bin" / "sonic"), "perf"], dict(os.environ)


def measure(tool, server, concurrency, seconds, stability, report):
    """Inferences/s that `tool` measured at `concurrency` (its CSV's first row)."""
    command, env = tool()
    command += [
        "-m", "identity", "-u", server.grpc_url, "-i", "grpc",
        "--shape", f"INPUT0:{ELEMENTS}",
        "--concurrency-range", str(concurrency),
        "--measurement-interval", str(int(seconds * 1000)),
        # A band wide enough for a shared 2-core machine; the rounds give the spread.
        "--stability-percentage", str(stability), "--max-trials", "10",
        "-f", str(report),
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                         timeout=300)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{run.stdout}\n{run.stderr}")
    with open(report, newline="") as f:
        return float(next(csv.DictReader(f))["Inferences/Second"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of each tool")
    parser.add_argument("--seconds", type=float, default=2.0, help="measurement window")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--quick", action="store_true", help="one short round (CTest)")
    args = parser.parse_args()
    stability = 100
    if args.quick:  # checks that both tools run, not how fast
        args.concurrency, args.rounds, args.seconds, stability = [1, 2], 1, 0.3, 200

    tools = {"sonic perf": sonic_perf_command, "perf_analyzer": perf_analyzer_command}
    rates = {name: {c: [] for c in args.concurrency} for name in tools}
    with tempfile.TemporaryDirectory() as scratch:
        repository = pathlib.Path(scratch) / "models"
        (repository / "identity" / "1").mkdir(parents=True)
        (repository / "identity" / "config.pbtxt").write_text(IDENTITY_CONFIG)
        server = sonic_server.SonicServer(repository, pathlib.Path(scratch) / "server.log")
        try:
            for round_index in range(args.rounds):
                for concurrency in args.concurrency:
                    for name, tool in tools.items():
                        csv_path = pathlib.Path(scratch) / f"{round_index}-{concurrency}.csv"
                        rates[name][concurrency].append(
                            measure(tool, server, concurrency, args.seconds, stability, csv_path))
                    print(f"round {round_index}, concurrency {concurrency}: " + ", ".join(
                        f"{name} {rates[name][concurrency][-1]:.0f}/s" for name in tools))
        finally:
            server.stop()

    median = {name: {c: statistics.median(v) for c, v in by_c.items()}
              for name, by_c in rates.items()}
    figures = [
        bench_result.figure(f"1 KiB inferences/s at concurrency {c}, sonic perf / perf_analyzer",
                            median["sonic perf"][c], "inferences/s", "perf_analyzer",
                            median["perf_analyzer"][c])
        for c in args.concurrency
    ]
    figures.append(bench_result.figure(
        "most 1 KiB inferences/s of one sonic-server, sonic perf / perf_analyzer",
        max(median["sonic perf"].values()), "inferences/s", "perf_analyzer",
        max(median["perf_analyzer"].values())))
    bench_result.write(
        args.out, "perf_tools", figures,
        notes={
            "model": f"identity, FP32 [{ELEMENTS}] in and out, 1 CPU instance, no batching",
            "load": (f"each tool in turn, {args.rounds} round(s) of {args.seconds} s windows per "
                     f"concurrency; medians over the rounds"),
            "tools": "perf_analyzer from the pinned perf-analyzer wheel; sonic perf of the build",
        },
        tables={name: {f"concurrency {c}": v for c, v in by_c.items()}
                for name, by_c in median.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
