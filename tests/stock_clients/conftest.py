"""Fixtures of the stock-client suites: one sonic-server per test file (each file is one CTest test)."""

import os
import pathlib

import pytest

import sonic_server


@pytest.fixture(scope="session")
def repository(tmp_path_factory):
    directory = tmp_path_factory.mktemp("stock_clients") / "models"
    sonic_server.write_repository(directory)
    return directory


@pytest.fixture(scope="session")
def server(request, repository):
    suite = pathlib.Path(str(request.config.args[0])).stem if request.config.args else "suite"
    log_path = sonic_server.output_dir() / f"{suite}.server.log"
    process = sonic_server.SonicServer(repository, log_path)
    yield process
    status = process.stop()
    if request.session.testsfailed:
        print(f"\nsonic-server (pid {process.pid}) exited with {status}; its log: {log_path}")
        print(process.log_tail())


def pytest_report_header(config):
    return [f"SONIC_BUILD_DIR={os.environ.get('SONIC_BUILD_DIR', '(unset)')}"]
