"""Fixtures of the cluster scenarios: the build, the models, where the figures go, and a skip
with its reason where network namespaces cannot be made."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import cluster as cl  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "quick: the short scenario `make test` runs")


@pytest.fixture(scope="session")
def build_dir():
    path = Path(os.environ.get("SONIC_BUILD_DIR", ROOT / "build"))
    for binary in ("bin/sonic-server", "bin/sonic"):
        if not (path / binary).exists():
            pytest.fail(f"{path / binary} is missing: build the project first")
    return path


@pytest.fixture(scope="session", autouse=True)
def stop_cleanly_on_sigterm():
    """SIGTERM (CTest's timeout, a CI runner's cancel) unwinds like Ctrl-C, so that every
    cluster's processes are stopped and its namespaces deleted."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session", autouse=True)
def cluster_permitted():
    reason = cl.namespaces_permitted()
    if reason:
        pytest.skip(reason)
    missing = [tool for tool in ("ip", "tc", "curl", "ss", "haproxy", "nginx", "prometheus")
               if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: run scripts/bootstrap.sh")


@pytest.fixture(scope="session")
def models(build_dir, tmp_path_factory):
    """The demonstrator's models: the build's, else written now."""
    path = build_dir / "models"
    if not (path / "deepmet").exists():
        path = tmp_path_factory.mktemp("models")
        subprocess.run([str(build_dir / "bin/sonic"), "models", "generate", "--out", str(path)],
                       check=True, stdout=subprocess.DEVNULL)
    return path


@pytest.fixture
def record(request):
    """record(name, figures): writes bench/results/<name>.json (SONIC_CLUSTER_RESULTS: another
    folder). SONIC_CLUSTER_LOGS names a folder that keeps every process's log."""
    folder = Path(os.environ.get("SONIC_CLUSTER_RESULTS", ROOT / "bench/results"))

    def write(name, figures):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")

    return write
