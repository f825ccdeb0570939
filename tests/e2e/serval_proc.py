"""Start a serval binary on a free loopback port and always stop it again.

Used by the black-box tests (standard library only, run with Debian's /usr/bin/python3):

    from serval_proc import ServalProcess, classifier_api_path
    srv = ServalProcess(classifier_api_path(), ["--max-body-bytes", "1024"])
    srv.start()                      # waits (10 s max) for "serval: listening on http://H:P (N threads)"
    self.addCleanup(srv.stop)        # SIGTERM, wait, SIGKILL fallback; safe to call twice
    srv.host, srv.port, srv.threads

Binary paths come from the environment that CTest sets (SERVAL_CLASSIFIER_API, SERVAL_CLI); when a test
is run by hand they default to build/bin/ beside this checkout.
"""

import ctypes
import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

LISTENING_RE = re.compile(r"serval: listening on http://([0-9A-Za-z.\-:\[\]]+):(\d+) \((\d+) threads?\)")
STARTUP_TIMEOUT = 10.0


def build_dir():
    return os.environ.get("SERVAL_BUILD_DIR", os.path.join(REPO, "build"))


def classifier_api_path():
    return os.environ.get("SERVAL_CLASSIFIER_API", os.path.join(build_dir(), "bin", "classifier_api"))


def serval_cli_path():
    return os.environ.get("SERVAL_CLI", os.path.join(build_dir(), "bin", "serval"))


class ServalStartError(RuntimeError):
    pass


def _die_with_parent():
    """Runs in the child before exec: if the test runner dies (CTest timeout, SIGKILL), the server gets
    SIGKILL too, so no orphan keeps a port or a core."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class ServalProcess:
    """One server process. `prefix` goes before the options (e.g. ["serve"] for the serval CLI)."""

    def __init__(self, binary, args=(), prefix=(), host="127.0.0.1", startup_timeout=STARTUP_TIMEOUT, env=None,
                 wait_ready=True):
        self.binary = binary
        self.args = list(args)
        self.prefix = list(prefix)
        self.host = host
        self.port = None
        self.threads = None
        self.startup_timeout = startup_timeout
        self.wait_ready = wait_ready
        self.env = env
        self.proc = None
        self.returncode = None
        self._lines = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._reader = None

    # ------------------------------------------------------------------ start
    def command(self):
        return [self.binary] + self.prefix + ["--host", self.host, "--port", "0"] + self.args

    def start(self):
        if not os.path.exists(self.binary):
            raise ServalStartError("binary not found: %s (build it with `make build`)" % self.binary)
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self.env,
            start_new_session=True,  # a Ctrl-C in the test runner's terminal does not reach it
            preexec_fn=_die_with_parent,
        )
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        if not self._listening.wait(self.startup_timeout):
            self.stop()
            raise ServalStartError(
                "no listening line within %.0f s from %s; exit code %r; stderr:\n%s"
                % (self.startup_timeout, " ".join(self.command()), self.returncode, self.stderr_text())
            )
        if self.wait_ready and not self._ready():
            self.stop()
            raise ServalStartError("GET /ready did not answer 200 within %.0f s; stderr:\n%s"
                                   % (self.startup_timeout, self.stderr_text()))
        return self

    def _ready(self):
        """Waits for GET /ready = 200: serval listens before its start-up hooks finish (routes answer
        503 until then), as a Kubernetes readiness probe would see it."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
                conn.request("GET", "/ready")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.01)
        return False

    def _read_stderr(self):
        stream = self.proc.stderr
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self._lines.append(line)
            if not self._listening.is_set():
                m = LISTENING_RE.search(line)
                if m:
                    self.port = int(m.group(2))
                    self.threads = int(m.group(3))
                    self._listening.set()
        stream.close()

    # ------------------------------------------------------------------ state
    def stderr_lines(self):
        with self._lock:
            return list(self._lines)

    def stderr_text(self):
        return "\n".join(self.stderr_lines())

    def wait_for_stderr(self, needle, timeout):
        """True once a stderr line contains `needle` (bounded by `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in line for line in self.stderr_lines()):
                return True
            time.sleep(0.02)
        return any(needle in line for line in self.stderr_lines())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def url(self, path="/"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def connect(self, timeout=5.0):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    # ------------------------------------------------------------------ stop
    def send_signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        """Exit code, or None if the process is still running after `timeout` seconds."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader is not None:
            self._reader.join(timeout=2)
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=12.0):
        """Stop by PID: `sig`, wait up to `timeout` s, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            if self.wait(timeout) is None:
                try:
                    os.kill(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.wait(5)
        else:
            self.wait(1)
        self.returncode = self.proc.returncode
        return self.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
