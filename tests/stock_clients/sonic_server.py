"""The real sonic-server of a build, started on loopback with free ports for the stock-client suites.

The build is found through SONIC_BUILD_DIR (set by CTest). The model repository is the integration
tests' one, written by the build's sonic_make_test_repository tool, less its two deliberately broken
models (Triton's strict readiness makes a server with a model that failed to load not ready), plus
`identity_reload`, a model of this suite's own for the load/unload checks.
"""

import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import threading

STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30

_LISTENING = "sonic-server: listening on "
_METRICS = "sonic-server: metrics on "
_HTTP = "sonic-server: http on "

IDENTITY_RELOAD_CONFIG = """name: "identity_reload"
backend: "identity"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
"""


def build_dir():
    value = os.environ.get("SONIC_BUILD_DIR", "")
    if not value:
        raise RuntimeError(
            "SONIC_BUILD_DIR is not set (run the suite through ctest, or set it to the build folder)"
        )
    return pathlib.Path(value)


def output_dir():
    """Where the suite leaves the server's log: SONIC_TEST_OUTPUT_DIR (set by CTest) or /tmp."""
    return pathlib.Path(os.environ.get("SONIC_TEST_OUTPUT_DIR", tempfile.gettempdir()))


def write_repository(directory):
    """Writes the suite's model repository into `directory` (see the module comment)."""
    tool = build_dir() / "bin" / "sonic_make_test_repository"
    subprocess.run([str(tool), "--out", str(directory)], check=True)
    for broken in ("broken_model", "bad_config"):
        shutil.rmtree(directory / broken)
    reload_dir = directory / "identity_reload"
    (reload_dir / "1").mkdir(parents=True)
    (reload_dir / "config.pbtxt").write_text(IDENTITY_RELOAD_CONFIG)


def dying_with_parent(command):
    """`command` run so that it is killed if the test process dies without stopping it.

    util-linux's setpriv sets PR_SET_PDEATHSIG, then execs the command (same pid). Not a
    preexec_fn: one makes subprocess fork the test process and run Python in the child before the
    exec, and a grpcio client in the test process restarts its poller thread in every forked
    child, whose epoll descriptor the child's close_fds then closes: the child aborts ("epoll_wait
    error: Bad file descriptor") before it becomes the server.
    """
    return ["setpriv", "--pdeathsig", "KILL", "--", *map(str, command)]


def _port(line, prefix):
    at = line.find(prefix)
    if at < 0:
        return None
    return int(line[at + len(prefix):].rsplit(":", 1)[1])


class SonicServer:
    """One sonic-server process. Not thread-safe; stop() is idempotent."""

    def __init__(self, repository, log_path, extra_args=()):
        binary = build_dir() / "bin" / "sonic-server"
        if not binary.is_file():
            raise RuntimeError(f"no server binary at {binary} (build the sonic-server target)")
        help_text = subprocess.run(
            [str(binary), "--help"], capture_output=True, text=True, check=False
        ).stdout
        # The HTTP endpoint is asked for on a free port only where the server has the flag.
        self.has_http_flag = "--http-port" in help_text
        args = [
            str(binary),
            "--model-repository", str(repository),
            "--model-control-mode", "explicit",
            "--load-model", "*",
            "--grpc-address", "127.0.0.1",
            "--grpc-port", "0",
            "--metrics-port", "0",
            # Triton refuses to turn tracing on while no trace file is set.
            "--trace-config", f"triton,file={log_path.with_suffix('.trace.json')}",
            *extra_args,
        ]
        if self.has_http_flag:
            args += ["--http-port", "0"]
            if "--http-address" in help_text:
                args += ["--http-address", "127.0.0.1"]
        self.log_path = log_path
        self.stdout_lines = []
        self.grpc_port = self.metrics_port = self.http_port = None
        self._log = open(log_path, "wb")
        self._process = subprocess.Popen(
            dying_with_parent(args),
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.pid = self._process.pid
        try:
            self._await_listening()
        except Exception:
            self.stop()
            raise
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    @property
    def grpc_url(self):
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self):
        return f"127.0.0.1:{self.http_port}" if self.http_port else None

    def _startup_complete(self):
        return (
            self.grpc_port is not None
            and self.metrics_port is not None
            and (self.http_port is not None or not self.has_http_flag)
        )

    def _await_listening(self):
        # readline() blocks; a watchdog kills the server when the deadline passes.
        watchdog = threading.Timer(STARTUP_TIMEOUT_S, self._process.kill)
        watchdog.start()
        try:
            while not self._startup_complete():
                line = self._process.stdout.readline()
                if not line:
                    raise RuntimeError(
                        f"sonic-server stopped before listening (exit status "
                        f"{self._process.wait()}, or killed after {STARTUP_TIMEOUT_S} s); "
                        f"stdout: {self.stdout_lines}; log:\n{self.log_tail()}"
                    )
                self.stdout_lines.append(line.rstrip("\n"))
                self.grpc_port = self.grpc_port or _port(line, _LISTENING)
                self.metrics_port = self.metrics_port or _port(line, _METRICS)
                self.http_port = self.http_port or _port(line, _HTTP)
        finally:
            watchdog.cancel()

    def _drain(self):
        for line in self._process.stdout:
            self.stdout_lines.append(line.rstrip("\n"))

    def log_tail(self, lines=40):
        if not self._log.closed:
            self._log.flush()
        text = pathlib.Path(self.log_path).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def running(self):
        return self._process.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; returns the exit status."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        return self._process.returncode
