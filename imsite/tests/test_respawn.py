"""scripts/respawn, which keeps `make cluster`'s web workers up: honcho stops every
process when one exits, so a killed worker must come back instead."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RESPAWN = Path(__file__).resolve().parents[2] / "scripts" / "respawn"


def started(log: Path, count: int, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [int(line) for line in log.read_text().split()] if log.exists() else []
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"{count} starts expected in {timeout} s, saw {log.read_text() if log.exists() else 0}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def respawned(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """respawn running a worker that writes its pid to a log each time it starts."""
    log = tmp_path / "starts"
    worker = f"import os, time; open({str(log)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(60)"
    return subprocess.Popen([str(RESPAWN), sys.executable, "-c", worker], stderr=subprocess.PIPE, text=True), log


def test_a_killed_worker_is_started_again_and_a_stop_stops_both(tmp_path):
    respawn, log = respawned(tmp_path)
    try:
        [first] = started(log, 1)
        os.kill(first, signal.SIGKILL)
        second = started(log, 2)[1]
        assert second != first and alive(second) and respawn.poll() is None
    finally:
        respawn.terminate()
        _out, errors = respawn.communicate(timeout=10)
    assert respawn.returncode == 0
    assert "exited with status 137; starting it again" in errors
    time.sleep(0.2)
    assert not alive(second)


def test_a_stop_while_waiting_to_start_again_is_not_lost(tmp_path):
    """honcho signals the whole process group, so the stop may come during the second
    between a worker's death and its restart: nothing is started after it."""
    respawn, log = respawned(tmp_path)
    try:
        [first] = started(log, 1)
        os.kill(first, signal.SIGKILL)
        time.sleep(0.3)  # within the second before it is started again
        respawn.terminate()
        respawn.communicate(timeout=10)
    finally:
        if respawn.poll() is None:
            respawn.kill()
    time.sleep(1.5)
    assert respawn.returncode == 0
    assert len(started(log, 1)) == 1  # not started again
