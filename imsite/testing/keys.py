"""A pytest plugin (pytest.ini loads it): the checkout's keys exist before pytest-django
reads the settings, which never make them. A fresh checkout has none; ``manage.py
make_keys`` makes them, as ``make`` does before it starts anything, and the test run and
the servers it starts then share them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    subprocess.run([sys.executable, "manage.py", "make_keys", "--verbosity", "0"], cwd=ROOT, check=True)
    return (yield)
