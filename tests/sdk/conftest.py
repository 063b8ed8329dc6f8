"""Fixtures for the cloudtwin SDK conformance suite.

Every test gets its own server process and data directory (so tests are parallel-safe).
Choose the lifecycle mode with @pytest.mark.lifecycle("3s"); the default is "instant".

Env:
  CLOUDTWIN_BIN   server binary (default <repo>/target/debug/cloudtwin)
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import sdkhelpers
from sdkhelpers import make_client

REPO = Path(__file__).resolve().parents[2]
CLOUDTWIN_BIN = os.environ.get("CLOUDTWIN_BIN", str(REPO / "target" / "debug" / "cloudtwin"))

LISTEN_RE = re.compile(r"listening on http://([0-9A-Za-z.\-\[\]:]+):(\d+)")
START_TIMEOUT = 15.0


def pytest_configure(config):
    config.addinivalue_line("markers", "lifecycle(mode): --lifecycle mode of the test's server (default instant)")


class Server:
    """One cloudtwin server process on its own data directory.

    start() launches `cloudtwin serve --listen 127.0.0.1:0 ...`, waits for the
    `listening on http://HOST:PORT` line on stdout and for GET /_cloudtwin/health == 200.
    stop() sends SIGTERM and waits, kill() sends SIGKILL, start() again reuses the data dir
    (the port changes: build new clients after a restart)."""

    def __init__(self, workdir: Path, lifecycle: str = "instant", binary: str = CLOUDTWIN_BIN,
                 extra_args: list[str] | None = None):
        self.binary = binary
        # More `serve` arguments (e.g. --state-control RULE, --store postgres://...),
        # kept across restarts.
        self.extra_args = list(extra_args or [])
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.log_dir = self.workdir / "logs"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.lifecycle = lifecycle
        self.access_key_id = "LTAI" + secrets.token_hex(10)
        self.access_key_secret = secrets.token_urlsafe(24)
        self.proc: subprocess.Popen | None = None
        self.host = None
        self.port = None
        self.runs = 0
        self.log_files: list[Path] = []

    # ---------------------------------------------------------------- process control
    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env["CLOUDTWIN_ACCESS_KEY_ID"] = self.access_key_id
        env["CLOUDTWIN_ACCESS_KEY_SECRET"] = self.access_key_secret
        return env

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def start(self) -> "Server":
        if not os.path.exists(self.binary):
            pytest.fail(f"cloudtwin binary not found at {self.binary} "
                        "(build it with `cargo build -p cloudtwin-server` or set CLOUDTWIN_BIN)")
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self.runs += 1
        out_path = self.log_dir / f"run{self.runs}.stdout.log"
        err_path = self.log_dir / f"run{self.runs}.stderr.log"
        self.log_files += [out_path, err_path]
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir),
               "--lifecycle", self.lifecycle, *self.extra_args]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        match = None
        while match is None:
            match = LISTEN_RE.search(out_path.read_text(errors="replace"))
            if match:
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"cloudtwin exited with {self.proc.returncode} before listening:\n{self.logs()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"no 'listening on http://HOST:PORT' on stdout within {START_TIMEOUT}s:\n"
                                   f"{self.logs()}")
            time.sleep(0.02)
        self.host, self.port = match.group(1), int(match.group(2))
        self._wait_healthy(deadline)
        return self

    def _wait_healthy(self, deadline: float) -> None:
        last = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_cloudtwin/health", timeout=2) as r:
                    if r.status == 200:
                        return
                    last = f"HTTP {r.status}"
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"
            except OSError as e:
                last = repr(e)
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"GET /_cloudtwin/health never returned 200 (last: {last}):\n{self.logs()}")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"cloudtwin did not exit within {timeout}s of SIGTERM")

    def kill(self) -> None:
        """SIGKILL and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, hard: bool = False) -> "Server":
        self.kill() if hard else self.stop()
        return self.start()

    # ---------------------------------------------------------------- helpers
    def client(self, ak: str | None = None, sk: str | None = None, signature_algorithm: str | None = None):
        """An SDK client for this server; defaults to the root account's keys."""
        return make_client(self.endpoint, ak or self.access_key_id, sk or self.access_key_secret,
                           signature_algorithm)

    def create_account(self, name: str) -> dict:
        """`cloudtwin accounts create NAME --data-dir DIR`: one JSON object on stdout."""
        r = subprocess.run([self.binary, "accounts", "create", name, "--data-dir", str(self.data_dir)],
                           capture_output=True, text=True, timeout=30, env=self.env, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, f"accounts create exited {r.returncode}\nstdout:{r.stdout}\nstderr:{r.stderr}"
        try:
            acct = json.loads(r.stdout)
        except ValueError:
            raise AssertionError(f"accounts create did not print one JSON object:\n{r.stdout!r}")
        for k in ("account", "access_key_id", "access_key_secret"):
            assert acct.get(k), f"accounts create output lacks {k}: {acct}"
        return acct

    def logs(self) -> str:
        parts = []
        for p in self.log_files:
            try:
                text = p.read_text(errors="replace")
            except OSError:
                continue
            parts.append(f"----- {p.name} -----\n{text[-20000:]}")
        return "\n".join(parts)


# ---------------------------------------------------------------------------- fixtures

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for i, srv in enumerate(getattr(item, "_cloudtwin_servers", [])):
            report.sections.append((f"cloudtwin server {i} logs ({srv.workdir})", srv.logs()))


@pytest.fixture
def server_factory(request, tmp_path):
    """make(lifecycle=None) -> a started Server with its own data dir."""
    servers = []
    request.node._cloudtwin_servers = servers
    marker = request.node.get_closest_marker("lifecycle")
    default_mode = marker.args[0] if marker else "instant"

    def make(lifecycle: str | None = None, start: bool = True, extra_args: list[str] | None = None) -> Server:
        srv = Server(tmp_path / f"server{len(servers)}", lifecycle or default_mode, extra_args=extra_args)
        servers.append(srv)
        return srv.start() if start else srv

    yield make
    for srv in servers:
        srv.kill()


@pytest.fixture
def server(server_factory) -> Server:
    return server_factory()


@pytest.fixture
def client(server):
    """SDK client (root account) for the test's server."""
    return server.client()


@pytest.fixture
def make_sdk_client(server):
    """client(ak, sk) -> SDK client for the test's server."""
    return server.client


@pytest.fixture
def create_account(server):
    return server.create_account


@pytest.fixture
def wait_status():
    return sdkhelpers.wait_status
