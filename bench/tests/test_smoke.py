"""Each benchmark scenario, tiny, against real workers: the figures are complete and
nothing is lost. Timings are whatever they are; only make bench reports them."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

from bench.__main__ import COMMON
from bench.servers import Worker
from imsite.testing.servers import ROOT

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

USERS = 10


@pytest.fixture
def tokens(tmp_path):
    import redis

    # Groups and presence left in this Redis database by earlier tests would be sent to.
    for url in settings.REDIS_URLS:
        redis.Redis.from_url(url).flushdb()
    path = tmp_path / "tokens.json"
    call_command("bench_users", count=USERS, tokens=path, stdout=io.StringIO())
    return path


def bench(scenario: str, workers, tokens, tmp_path, *extra: str) -> dict:
    out = tmp_path / f"{scenario}.json"
    command = [
        sys.executable, "-m", "bench", "--scenario", scenario, "--users", str(USERS),
        "--rate", "10", "--duration", "1", "--repeats", "2", "--settle", "10", "--drain", "30",
        "--url", ",".join(w.url for w in workers), "--server-pid", ",".join(str(w.pid) for w in workers),
        "--tokens", str(tokens), "--out", str(out), *extra,
    ]  # fmt: skip
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(COMMON) | {"versions", "settings", "scenario"} <= set(result)
    assert {"p50", "p95", "p99"} <= set(result["latency_ms"])
    assert result["connections"] == USERS
    assert (result["errors"], result["lost"], result["duplicates"]) == (0, 0, 0), result
    assert result["server_rss_mb"] > 0
    return result


def test_idle_direct_and_fanout_on_one_worker(web_worker, tokens, tmp_path):
    idle = bench("idle", [web_worker], tokens, tmp_path)
    assert idle["kb_per_connection"] is not None and idle["connect_per_s"] > 0
    assert idle["latency_ms"]["p50"] is None and idle["delivered_per_s"] is None

    deflate = bench("idle", [web_worker], tokens, tmp_path / "deflate", "--deflate")
    assert deflate["deflate_offered"] is True

    direct = bench("direct", [web_worker], tokens, tmp_path)
    assert direct["sent"] == direct["acked"] == direct["delivered"] == 10
    assert direct["latency_ms"]["p99"] is not None

    fanout = bench("fanout", [web_worker], tokens, tmp_path)
    assert fanout["members"] == USERS and fanout["members_offline"] == 0
    assert [r["delivered"] for r in fanout["rounds"]] == [USERS - 1, USERS - 1]
    assert fanout["last_delivery_ms"]["p50"] >= fanout["first_delivery_ms"]["p50"]


def test_cluster_across_a_daphne_and_a_uvicorn_worker(services_env, tokens, tmp_path):
    # One worker of each server: the clients of one talk to the clients of the other
    # through Redis, which is what a mixed rollout from one server to the other needs.
    workers = [
        Worker("bench-daphne", services_env, tmp_path),
        Worker("bench-uvicorn", services_env, tmp_path, asgi_server="uvicorn"),
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        cluster = bench("cluster", workers, tokens, tmp_path)
    finally:
        for worker in workers:
            worker.stop()
    assert cluster["workers"] == {"bench-daphne": USERS // 2, "bench-uvicorn": USERS // 2}
    assert cluster["delivered"] == cluster["sent"] == 10
    assert cluster["fanout"]["workers"] == {"bench-daphne": USERS // 2, "bench-uvicorn": USERS // 2}
    assert [r["delivered"] for r in cluster["fanout"]["rounds"]] == [USERS - 1, USERS - 1]


def test_search_while_sending(web_worker, tokens, tmp_path):
    corpus = tmp_path / "corpus.json"
    call_command("bench_messages", count=500, users=USERS, group_size=5, out=corpus, stdout=io.StringIO(),
                 stderr=io.StringIO())  # fmt: skip
    call_command("search_reindex", "--missing", stdout=io.StringIO(), stderr=io.StringIO())
    search = bench("search", [web_worker], tokens, tmp_path, "--corpus", str(corpus), "--searches", "10")
    assert search["search"]["statuses"] == {"200": 10}
    assert sum(kind["searches"] for kind in search["search"]["by_kind"].values()) == 10
    assert search["search"]["latency_ms"]["p95"] is not None
    for phase in (search, search["sends_alone_before"], search["sends_alone_after"]):
        assert phase["sent"] == phase["delivered"] == 10
        assert phase["workers_cpu_ms_per_message"] > 0 and phase["postgresql_cpu_ms_per_message"] > 0
    assert search["send_p99_ratio"] is not None
