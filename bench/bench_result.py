"""The result file of a Python benchmark scenario, in the format of bench/bench_report.h (so that
`make bench`'s results read alike whatever wrote them):

    {"scenario", "date", "commit", "commit_dirty", "machine": {...}, "notes": {...},
     "tables": {...}, "figures": [{"name", "value", "unit", "floor", "floor_value", "ratio",
                                   "target", "higher_is_better", "result"}]}

A figure with a target passes when value / floor_value reaches it; one without is "info".
"""

import datetime
import json
import os
import pathlib
import platform
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]


def figure(name, value, unit, floor=None, floor_value=None, target=None, higher_is_better=True):
    entry = {"name": name, "value": value, "unit": unit}
    if floor is not None:
        ratio = value / floor_value if floor_value else None
        entry.update({"floor": floor, "floor_value": floor_value, "ratio": ratio})
        if target is not None:
            passed = ratio is not None and (
                ratio >= target if higher_is_better else ratio <= target)
            entry.update({"target": target, "higher_is_better": higher_is_better,
                          "result": "pass" if passed else "miss"})
            return entry
    entry["result"] = "info"
    return entry


def _git(*args):
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _machine():
    cpu_model, memory = "", 0
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": cpu_model, "memory_bytes": memory,
            "kernel": f"{platform.system()} {platform.release()}"}


def write(out_dir, scenario, figures, notes=None, tables=None):
    """Writes <out_dir>/<scenario>.json, prints one line per figure; returns whether every figure
    with a target passed."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    result = {
        "scenario": scenario,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit,
        "commit_dirty": bool(status),
        "machine": _machine(),
        "notes": notes or {},
        "tables": tables or {},
        "figures": figures,
    }
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{scenario}.json").write_text(json.dumps(result, indent=2) + "\n")
    for entry in figures:
        line = f"  {entry['name']}: {entry['value']:.4g} {entry['unit']}"
        if "ratio" in entry and entry["ratio"] is not None:
            line += f"  ({entry['ratio']:.3f} x {entry['floor']})"
        if "target" in entry:
            line += f"  target {entry['target']}: {entry['result']}"
        print(line)
    return all(entry["result"] != "miss" for entry in figures)
