"""Real server processes for tests and the benchmark: Daphne (or uvicorn) workers started
on free loopback ports, and Celery workers beside them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ASGI_SERVERS = ("daphne", "uvicorn")
# The largest WebSocket message a worker takes, under either server: Daphne's own limit
# (its --websocket-max-message-size and --websocket-max-frame-size default to it), given to
# uvicorn as --ws-max-size, whose default of 16 MiB lets a client make a worker buffer that
# much per frame before the application refuses it (protocol frames are at most 96 KiB).
# The Procfile's web-uvicorn line and docs/deploy.md's unit carry the same number.
WS_MAX_MESSAGE_BYTES = 1024 * 1024


def worker_command(asgi_server: str, host: str, port: int) -> list[str]:
    """The command line of one worker under either server."""
    if asgi_server == "daphne":
        return [sys.executable, "-m", "daphne", "--bind", host, "--port", str(port), "imsite.asgi:application"]
    if asgi_server == "uvicorn":
        # websockets-sansio: the websockets library's protocol without its own event-loop
        # machinery; lifespan on, so that the application's start-up runs before traffic.
        return [
            sys.executable, "-m", "uvicorn", "--host", host, "--port", str(port),
            "--ws", "websockets-sansio", "--ws-max-size", str(WS_MAX_MESSAGE_BYTES),
            "--lifespan", "on", "imsite.asgi:application",
        ]  # fmt: skip
    raise ValueError(f"ASGI_SERVER must be one of {', '.join(ASGI_SERVERS)}, not {asgi_server!r}")


class ChildProcess:
    """A process in a session of its own, its output in ``<log_dir>/<name>.log``."""

    #: Seconds a SIGTERM has to end it before SIGKILL.
    stop_timeout = 10

    def _start(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "SECURE": "false", **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]


class ServerProcess(ChildProcess):
    def __init__(
        self,
        name: str,
        env: dict[str, str],
        log_dir: Path,
        *,
        port: int | None = None,
        network=None,
        asgi_server: str = "daphne",
    ) -> None:
        self.asgi_server = asgi_server
        # A PrivateNetwork (imsite.testing.netns) to run in; its addresses are its own.
        self.network = network
        # A port chosen beforehand, when something must know the address before the start.
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        command = worker_command(asgi_server, "127.0.0.1", self.port)
        self._start(
            name, network.command(command) if network is not None else command, {"WORKER_NAME": name, **env}, log_dir
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()}")
            if self._healthy():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start: {self.log()}")

    def _healthy(self) -> bool:
        url = f"{self.url}/healthz"
        if self.network is not None:
            probe = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)"
            command = self.network.command([sys.executable, "-c", probe, url])
            return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def token(self, username: str, password: str = "switchboard-demo") -> str:
        request = urllib.request.Request(
            f"{self.url}/api/v1/auth/token/",
            data=json.dumps({"username": username, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["access_token"]

class CeleryWorker(ChildProcess):
    """A Celery worker (``celery --app imsite worker``) on ``env``'s broker, as the
    Procfile's ``worker`` runs it; it discards the tasks it finds waiting when it starts
    (those of an earlier test or run)."""

    # A warm shutdown finishes the task at hand first.
    stop_timeout = 20

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, *, concurrency: int = 1) -> None:
        command = [
            sys.executable, "-m", "celery", "--app", "imsite", "worker", "--loglevel", "INFO",
            "--concurrency", str(concurrency), "--hostname", f"{name}@%h", "--purge",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        self._start(name, command, env, log_dir)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()}")
            if " ready." in self.log():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start: {self.log()}")


@contextmanager
def servers(names: list[str], env: dict[str, str], log_dir: Path):
    started = [ServerProcess(name, env, log_dir) for name in names]
    try:
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


def standalone_env(directory: Path) -> dict[str, str]:
    """The environment of a separate Switchboard instance: its own SQLite database, keys
    and files under ``directory``, no Redis (in-memory channel layer, eager Celery), e.g. to
    play another system (an identity provider) next to the one under test. Its keys are
    made here, as ``make`` makes a checkout's."""
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        "DATABASE_URL": f"sqlite:///{directory.resolve() / 'db.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "SWITCHBOARD_VAR_DIR": str(directory.resolve() / "var"),
        "MEDIA_ROOT": str(directory.resolve() / "media"),
        "SECURE": "false",
    }
    manage("make_keys", "--verbosity", "0", env=env)
    return env


@contextmanager
def demo_server(directory: Path, name: str):
    """A standalone Switchboard (``standalone_env``) with the demo organisation and no
    history, started in ``directory``: for browser tests that need one real worker and
    nothing shared with the test's own database."""
    env = standalone_env(directory)
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("seed_demo", "--no-history", env=env)
    server = ServerProcess(name, env, directory)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run ``manage.py`` with ``env`` over this process's environment; its standard output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-4000:]}")
    return result.stdout
