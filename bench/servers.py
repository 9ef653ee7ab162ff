"""Web workers under Daphne or uvicorn, for the benchmark suite and its smoke test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from imsite.testing.servers import ROOT, ServerProcess, free_port

ASGI_SERVERS = ("daphne", "uvicorn")


def worker_command(asgi_server: str, host: str, port: int) -> list[str]:
    """The command line of one worker under either server."""
    if asgi_server == "daphne":
        return [sys.executable, "-m", "daphne", "--bind", host, "--port", str(port), "imsite.asgi:application"]
    if asgi_server == "uvicorn":
        # websockets-sansio: the websockets library's protocol without its own event-loop
        # machinery; lifespan on, so that the application's start-up runs before traffic.
        return [
            sys.executable, "-m", "uvicorn", "--host", host, "--port", str(port),
            "--ws", "websockets-sansio", "--lifespan", "on", "imsite.asgi:application",
        ]  # fmt: skip
    raise ValueError(f"ASGI_SERVER must be one of {', '.join(ASGI_SERVERS)}, not {asgi_server!r}")


class Worker(ServerProcess):
    """A :class:`ServerProcess` whose server is Daphne or uvicorn."""

    def __init__(
        self, name: str, env: dict[str, str], log_dir: Path, *, asgi_server: str = "daphne", port: int | None = None
    ) -> None:
        command = worker_command(asgi_server, "127.0.0.1", port or free_port())
        self.name = name
        self.asgi_server = asgi_server
        self.network = None
        self.port = int(command[command.index("--port") + 1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "WORKER_NAME": name, "SECURE": "false", **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid
