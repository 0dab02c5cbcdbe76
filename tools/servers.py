"""Start real gunicorn servers on loopback ports for multi-process, load and fault tests.

    with GunicornServer(database_url=PG, redis_url="redis://127.0.0.1:6379/5",
                        workers=2) as server:            # or: with running(a, b):
        status, headers, body = server.request("GET", "/readyz")
        victim = server.kill_worker()   # kill -9 one worker during a load test
        server.wait_for_workers(gone=victim)

The server runs ``gunicorn -c gunicorn.conf.py <app>`` from the repository root in
production mode (a test secret and receipt key ring, the given DATABASE_URL and rate-limit
store; without a Redis store, a one-worker server runs with ``SIPAS_SINGLE_PROCESS=1``, as
production requires), in its own process group; ``stop()`` sends SIGTERM, waits for a
graceful exit and SIGKILLs the group if needed. Its output goes to a log file
(``.log_path``), shown when start-up fails. The database schema must exist already (tests:
the ``pg_schema`` fixture or ``flask db upgrade``).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TEST_SECRET = "serverproc-test-secret-0123456789abcdef"  # noqa: S105 - tests only
#: the receipt key ring of the test servers (base64 of 32 bytes; tests only)
TEST_RECEIPT_KEYS = "t1:c2VydmVycHJvYy1yZWNlaXB0LWtleS0wMTIzNDU2Nzg="


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plain_database_url(url: str) -> str:
    """SQLAlchemy's ``postgresql+psycopg://`` form back to ``postgresql://`` (both work in
    DATABASE_URL; this one is also what psql and pg_dump take)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def running(*servers: GunicornServer, timeout: float = 60.0
            ) -> Iterator[tuple[GunicornServer, ...]]:
    """Start several servers in parallel (each start costs seconds), stop them all after."""
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready(timeout)
        yield servers
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.close()


class GunicornServer:
    def __init__(self, database_url: str, *, redis_url: str | None = None, workers: int = 1,
                 threads: int = 1, app: str = "wsgi:app", port: int | None = None,
                 env: dict[str, str] | None = None, log_path: Path | None = None) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.workers = workers
        self.threads = threads
        self.app = app
        self.port = port or free_port()
        self.extra_env = env or {}
        self._tmp = tempfile.TemporaryDirectory(prefix="sipas-gunicorn-")
        self.log_path = log_path or Path(self._tmp.name) / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SIPAS_", "PROMETHEUS_", "GUNICORN_"))
               and k not in ("DATABASE_URL", "SECRET_KEY", "WEB_CONCURRENCY")}
        env.update({
            "SIPAS_ENV": "production",
            "SECRET_KEY": TEST_SECRET,
            "SIPAS_RECEIPT_KEYS": TEST_RECEIPT_KEYS,
            "DATABASE_URL": self.database_url,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "PROMETHEUS_MULTIPROC_DIR": str(Path(self._tmp.name) / "metrics"),
            "PYTHONUNBUFFERED": "1",
        })
        if self.redis_url:
            env["SIPAS_RATELIMIT_STORAGE_URI"] = self.redis_url
        elif self.workers == 1:
            env["SIPAS_SINGLE_PROCESS"] = "1"
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> GunicornServer:
        """Start and wait until ``/healthz`` answers. Raises RuntimeError (with the log's
        tail) when the server exits or does not answer within ``timeout`` seconds."""
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting (see :func:`running` for several at once)."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), self.app],
            cwd=REPO, env=self._env(), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def wait_ready(self, timeout: float = 60.0) -> GunicornServer:
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n"
                                   + self.log_tail())
            try:
                if self.request("GET", "/healthz", timeout=2)[0] == 200 \
                        and len(self.worker_pids()) >= self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n" + self.log_tail())

    def terminate(self) -> None:
        """Ask for a graceful stop (SIGTERM) without waiting."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (graceful: workers finish their request), then SIGKILL the group."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> GunicornServer:
        try:
            return self.start()
        except BaseException:
            self.close()  # a server that did not start leaves no temporary folder behind
            raise

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def worker_pids(self) -> list[int]:
        """The live worker processes (children of the gunicorn master)."""
        if self.proc is None:
            return []
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def kill_worker(self, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` (default SIGKILL) to one worker; returns its pid."""
        pid = self.worker_pids()[0]
        os.kill(pid, sig)
        return pid

    def wait_for_workers(self, n: int | None = None, gone: int | None = None,
                         timeout: float = 30.0) -> list[int]:
        """Wait until ``n`` workers (default: as configured) run, none of them ``gone``.
        Raises TimeoutError."""
        n = self.workers if n is None else n
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == n and gone not in pids:
                return pids
            time.sleep(0.05)
        raise TimeoutError(f"workers {self.worker_pids()} after {timeout} s")

    def request(self, method: str, path: str, body: bytes | str | dict | None = None,
                headers: dict[str, str] | None = None, timeout: float = 30.0
                ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request on a fresh connection; a dict body is sent as JSON."""
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def get_json(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, _headers, body = self.request("GET", path, **kwargs)
        return status, json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
