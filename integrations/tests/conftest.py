from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command


@pytest.fixture
def register(db):
    """Register an integration the way an administrator does; returns its JSON line."""

    def run(name="Acme HR", scopes="notify", redirect_uri=None) -> dict:
        out = io.StringIO()
        args = ["hr_client", "create", "--name", name, "--scopes", scopes]
        if redirect_uri:
            args += ["--redirect-uri", redirect_uri]
        call_command(*args, stdout=out)
        return json.loads(out.getvalue())

    return run
