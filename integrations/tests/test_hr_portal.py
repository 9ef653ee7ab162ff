"""The example HR portal (examples/hr_portal) signs an employee in with Switchboard.

The portal runs as its own process with Authlib as its OpenID Connect client; a real
browser goes through Switchboard's sign-in page and consent screen and back.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken
from playwright.sync_api import expect

from imsite.testing.browser import login_context
from imsite.testing.servers import ROOT, free_port

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

PORTAL = ROOT / "examples" / "hr_portal" / "portal.py"


@pytest.fixture(autouse=True)
def _server_hashers(settings):
    """The demo password and the portal's client secret are hashed here and checked by the
    Switchboard worker: with the worker's hashers, not the suite's fast test hasher."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def _wait_until_answering(url: str, process: subprocess.Popen, log_path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal exited: {log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"the portal did not start: {log_path.read_text(errors='replace')}")


@pytest.fixture
def portal(demo, web_worker, tmp_path):
    """The portal registered as an integration (as an administrator does it) and running
    as its own process against the Switchboard worker."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    out = io.StringIO()
    call_command(
        "hr_client", "create", "--name", "HR Portal", "--scopes", "openid,profile",
        "--redirect-uri", f"{url}/callback", stdout=out,
    )
    client = json.loads(out.getvalue())
    # Nothing of Switchboard's own configuration: the portal knows only what it is given.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    env.update(
        SWITCHBOARD_URL=web_worker.url,
        HR_PORTAL_CLIENT_ID=client["client_id"],
        HR_PORTAL_CLIENT_SECRET=client["client_secret"],
        PORT=str(port),
        PORTAL_URL=url,
    )
    log_path = tmp_path / "portal.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(PORTAL)], cwd=tmp_path, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            _wait_until_answering(url, process, log_path)
            yield SimpleNamespace(url=url, client_id=client["client_id"], log_path=log_path)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def portal_tokens(portal):
    return AccessToken.objects.filter(application__client_id=portal.client_id)


def test_an_employee_signs_in_to_the_hr_portal_with_switchboard(demo, web_worker, portal, browser):
    page = browser.new_context().new_page()
    seen = []
    page.on("request", lambda request: seen.append(request.url))

    page.goto(portal.url)
    page.get_by_test_id("sign-in").click()

    # Switchboard's own sign-in page: the portal never sees the password.
    expect(page).to_have_url(re.compile(re.escape(f"{web_worker.url}/accounts/login/")))
    page.fill("#id_username", "carol")
    page.fill("#id_password", "switchboard-demo")
    page.get_by_role("button", name="Sign in", exact=True).click()

    # The consent screen names the portal and what it will see.
    consent = page.get_by_test_id("consent")
    expect(consent).to_contain_text("HR Portal")
    expect(consent).to_contain_text("employee number")
    expect(consent).to_contain_text(f"{portal.url}/callback")
    page.get_by_test_id("consent-allow").click()

    # Back on the portal, signed in as carol, with her details from the ID token / userinfo.
    expect(page).to_have_url(f"{portal.url}/")
    expect(page.get_by_test_id("employee-name")).to_have_text("Carol Davis")
    expect(page.get_by_test_id("employee-number")).to_have_text(demo["carol"].employee_number)
    assert demo["carol"].employee_number == "E0007"
    expect(page.get_by_test_id("employee-username")).to_have_text("carol")
    expect(page.get_by_test_id("employee-department")).to_have_text("sales")
    expect(page.get_by_test_id("employee-title")).to_have_text("Account Executive")

    # The portal asked for a code with PKCE S256, state and nonce, and holds a token for carol.
    authorize = next(url for url in seen if url.startswith(f"{web_worker.url}/o/authorize/?"))
    for parameter in ("response_type=code", "code_challenge=", "code_challenge_method=S256", "state=", "nonce="):
        assert parameter in authorize
    token = portal_tokens(portal).get()
    assert token.user == demo["carol"] and set(token.scope.split()) == {"openid", "profile"}

    # A callback URL replayed elsewhere (its state belongs to that browser's session, and
    # is spent) signs nobody in.
    callback = next(url for url in seen if url.startswith(f"{portal.url}/callback?"))
    stranger = browser.new_context().new_page()
    response = stranger.goto(callback)
    assert response.status == 400
    expect(stranger.get_by_test_id("portal-error")).to_contain_text("not started here")
    expect(stranger.get_by_test_id("employee")).to_have_count(0)
    stranger.goto(portal.url)
    expect(stranger.get_by_test_id("sign-in")).to_be_visible()

    # Signing out of the portal revokes its tokens at Switchboard.
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("sign-in")).to_be_visible()
    expect(page.get_by_test_id("employee")).to_have_count(0)
    assert not portal_tokens(portal).exists()


def test_the_portal_refuses_a_forged_declined_or_expired_sign_in(demo, web_worker, portal, browser):
    # Already signed in to Switchboard: the portal's button goes straight to consent.
    page = login_context(browser, base_url=web_worker.url, user=demo["carol"]).new_page()

    response = page.goto(f"{portal.url}/callback?code=forged&state=forged")
    assert response.status == 400
    expect(page.get_by_test_id("portal-error")).to_contain_text("Sign-in did not complete")
    expect(page.get_by_test_id("employee")).to_have_count(0)

    page.goto(portal.url)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("consent-cancel").click()
    expect(page.get_by_test_id("portal-error")).to_contain_text("you declined")
    expect(page.get_by_test_id("employee")).to_have_count(0)
    assert not portal_tokens(portal).exists()

    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("consent-allow").click()
    expect(page.get_by_test_id("employee-name")).to_have_text("Carol Davis")

    # The portal asks Switchboard (introspection) on every page: once the token has
    # expired, the portal's session ends too.
    portal_tokens(portal).update(expires=timezone.now() - timedelta(seconds=1))
    page.reload()
    expect(page.get_by_test_id("portal-error")).to_contain_text("sign-in has ended")
    expect(page.get_by_test_id("employee")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("sign-in")).to_be_visible()
    expect(page.get_by_test_id("employee")).to_have_count(0)
