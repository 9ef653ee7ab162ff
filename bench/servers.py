"""Web workers under Daphne or uvicorn, for the benchmark suite and its smoke test."""

from __future__ import annotations

from imsite.testing.servers import ASGI_SERVERS, ServerProcess

__all__ = ["ASGI_SERVERS", "Worker"]

#: A worker process: ``Worker(name, env, log_dir, asgi_server="uvicorn")``.
Worker = ServerProcess
