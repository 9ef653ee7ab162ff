"""Signing in with the company's OpenID Connect provider (issue 7, point 4).

The provider is real: a second Switchboard, with its own SQLite database and the same demo
people, started as a separate process. It plays the HR system; its dave has carol's email
address, so a sign-in that lands on dave proves the employee number is tried first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.sessions.models import Session
from django.test import Client
from playwright.sync_api import expect

from accounts.models import User
from accounts.sso import user_get_for_identity
from core.errors import ApplicationError
from imsite.testing.servers import ServerProcess, free_port, manage, standalone_env

DEMO_PASSWORD = "switchboard-demo"
PROVIDER_NAME = "Acme HR"
EMPLOYEE_FIRST = ["employee_number", "email"]

# The HR system: the demo people, whose records differ a little from Switchboard's, and
# Switchboard registered as a client (one start of Django for all three steps).
IDP_SETUP = """
import sys
from django.core.management import call_command
from accounts.models import User

call_command("seed_demo", stdout=sys.stderr)
User.objects.filter(username="dave").update(email="carol@demo.switchboard.example")
User.objects.create_user(
    "hr_only", password="switchboard-demo", employee_number="E9999", email="hr.only@elsewhere.example"
)
call_command(
    "hr_client", "create", "--name", "Switchboard", "--scopes", "openid,profile,email",
    *[f"--redirect-uri={uri}" for uri in REDIRECT_URIS],
)
"""


@dataclass
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    #: the port the live Switchboard under test will listen on (it is in the redirect URI)
    main_port: int
    server: ServerProcess


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    """The HR system's OpenID Connect provider, running, with Switchboard registered as a
    client for the live server (``main_port``) and for the in-process test client."""
    directory: Path = tmp_path_factory.mktemp("idp")
    env = standalone_env(directory)
    port = free_port()
    # Another host name than the server under test, so that the browser keeps two sets of
    # cookies (cookies are per host, not per port).
    issuer = f"http://localhost:{port}/o"
    env["OIDC_ISSUER"] = issuer
    main_port = free_port()
    redirect_uris = [
        f"http://127.0.0.1:{main_port}/accounts/oidc/callback/",  # the live server below
        "http://localhost/accounts/oidc/callback/",  # the test client
    ]
    manage("migrate", "--noinput", "-v", "0", env=env)
    output = manage("shell", "-c", f"REDIRECT_URIS = {redirect_uris!r}\n{IDP_SETUP}", env=env)
    registered = json.loads(output.strip().splitlines()[-1])
    server = ServerProcess("idp", env, directory, port=port)
    try:
        server.wait_ready()
        yield Provider(issuer, registered["client_id"], registered["client_secret"], main_port, server)
    finally:
        server.stop()


def login_env(idp: Provider) -> dict[str, str]:
    return {
        "OIDC_LOGIN_ISSUER": idp.issuer,
        "OIDC_LOGIN_CLIENT_ID": idp.client_id,
        "OIDC_LOGIN_CLIENT_SECRET": idp.client_secret,
        "OIDC_LOGIN_NAME": PROVIDER_NAME,
    }


@pytest.fixture
def sso_settings(settings, idp):
    for name, value in login_env(idp).items():
        setattr(settings, name, value)
    return settings


@pytest.fixture
def rp():
    """Switchboard in this process, as the test client, at the address registered for it."""
    return Client(HTTP_HOST="localhost")


class _Forms(HTMLParser):
    """Every form on a page: its action and its inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name") and attrs.get("type") != "submit":
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def _form_with(page: requests.Response, field: str) -> dict:
    parser = _Forms()
    parser.feed(page.text)
    return next(form for form in parser.forms if field in form["fields"])


def sign_in_at_provider(authorize_url: str, username: str, *, allow: bool = True) -> str:
    """What a person does at the provider, without a browser: sign in, then approve (or
    refuse) the consent. Returns where the provider sends them back to."""
    browser = requests.Session()
    login_page = browser.get(authorize_url, timeout=10)
    assert "/accounts/login/" in login_page.url, login_page.text[:500]
    form = _form_with(login_page, "password")
    consent = browser.post(
        login_page.url, data={**form["fields"], "username": username, "password": DEMO_PASSWORD}, timeout=10
    )
    assert consent.status_code == 200 and "/o/authorize/" in consent.url, consent.text[:500]
    fields = _form_with(consent, "client_id")["fields"]
    if allow:
        fields["allow"] = "Authorize"
    back = browser.post(consent.url, data=fields, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:500]
    return back.headers["Location"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


# --- The mapping rules ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_employee_number_is_tried_before_the_email(demo):
    claims = {"sub": "1", "employee_number": demo["dave"].employee_number, "email": demo["carol"].email}
    assert user_get_for_identity(claims=claims, match=EMPLOYEE_FIRST) == (demo["dave"], "employee_number")
    # The order is the setting's, not the code's.
    assert user_get_for_identity(claims=claims, match=["email", "employee_number"]) == (demo["carol"], "email")


@pytest.mark.django_db
def test_the_email_decides_when_the_employee_number_is_missing_or_unknown(demo):
    for number in [None, "", "E-NOT-HERE"]:
        claims = {"sub": "1", "employee_number": number, "email": "  Dave@Demo.Switchboard.EXAMPLE "}
        assert user_get_for_identity(claims=claims, match=EMPLOYEE_FIRST) == (demo["dave"], "email")


@pytest.mark.django_db
def test_an_email_the_provider_calls_unverified_does_not_count(demo):
    claims = {"sub": "1", "email": demo["dave"].email, "email_verified": False}
    with pytest.raises(ApplicationError) as refused:
        user_get_for_identity(claims=claims, match=EMPLOYEE_FIRST)
    assert refused.value.code == "not_found"


@pytest.mark.django_db
def test_no_match_is_refused_and_nothing_is_created(demo):
    users = User.objects.count()
    with pytest.raises(ApplicationError) as refused:
        user_get_for_identity(
            claims={"sub": "1", "employee_number": "E9999", "email": "new.hire@elsewhere.example"},
            match=EMPLOYEE_FIRST,
        )
    assert refused.value.code == "not_found"
    assert "No Switchboard account matches" in refused.value.detail
    assert User.objects.count() == users


@pytest.mark.django_db
def test_two_accounts_with_one_email_are_ambiguous(demo):
    User.objects.filter(username__in=["alice", "bob"]).update(email="shared@demo.switchboard.example")
    with pytest.raises(ApplicationError) as refused:
        user_get_for_identity(claims={"sub": "1", "email": "shared@demo.switchboard.example"}, match=EMPLOYEE_FIRST)
    assert refused.value.code == "conflict"
    assert "More than one Switchboard account" in refused.value.detail


@pytest.mark.django_db
def test_a_deactivated_account_is_refused_without_trying_the_next_claim(demo):
    User.objects.filter(username="dave").update(is_active=False)
    claims = {"sub": "1", "employee_number": demo["dave"].employee_number, "email": demo["carol"].email}
    with pytest.raises(ApplicationError) as refused:
        user_get_for_identity(claims=claims, match=EMPLOYEE_FIRST)
    assert refused.value.code == "not_permitted"
    assert "deactivated" in refused.value.detail


@pytest.mark.django_db
def test_of_an_old_and_a_new_account_with_one_email_the_active_one_matches(demo):
    User.objects.filter(username="alice").update(email=demo["bob"].email, is_active=False)
    assert user_get_for_identity(claims={"sub": "1", "email": demo["bob"].email}, match=EMPLOYEE_FIRST) == (
        demo["bob"],
        "email",
    )


@pytest.mark.django_db
def test_service_accounts_never_match(demo):
    User.objects.create(username="hr-bot", email="hr-bot@demo.switchboard.example", is_service_account=True)
    with pytest.raises(ApplicationError) as refused:
        user_get_for_identity(claims={"sub": "1", "email": "hr-bot@demo.switchboard.example"}, match=EMPLOYEE_FIRST)
    assert refused.value.code == "not_found"


# --- The sign-in page and the views, without a provider ---------------------------------


@pytest.mark.django_db
def test_without_an_issuer_there_is_no_button_and_no_endpoint(client, settings):
    settings.OIDC_LOGIN_ISSUER = ""
    assert 'data-testid="oidc-login"' not in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/oidc/login/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404


@pytest.mark.django_db
def test_the_sign_in_page_offers_the_provider_and_keeps_next(client, settings):
    settings.OIDC_LOGIN_ISSUER = "https://hr.example.com/oidc"
    settings.OIDC_LOGIN_CLIENT_ID = "switchboard"
    settings.OIDC_LOGIN_NAME = PROVIDER_NAME
    html = client.get("/accounts/login/?next=/contacts/").content.decode()
    assert re.search(r'href="/accounts/oidc/login/\?next=%2Fcontacts%2F"[^>]*>Sign in with Acme HR</a>', html)


@pytest.mark.django_db
def test_an_unreachable_provider_ends_on_the_sign_in_page(client, settings):
    settings.OIDC_LOGIN_ISSUER = f"http://127.0.0.1:{free_port()}/o"
    settings.OIDC_LOGIN_CLIENT_ID = "switchboard"
    settings.OIDC_LOGIN_NAME = PROVIDER_NAME
    response = client.get("/accounts/oidc/login/?next=/contacts/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fcontacts%2F"
    html = response.content.decode()
    assert 'data-testid="oidc-login-error"' in html and "Could not reach Acme HR" in html
    assert signed_in_user_id(client) is None
    # The message is shown once.
    assert "Could not reach" not in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_next_is_kept_only_when_it_is_on_this_site(client, settings):
    settings.OIDC_LOGIN_ISSUER = f"http://127.0.0.1:{free_port()}/o"
    settings.OIDC_LOGIN_CLIENT_ID = "switchboard"
    response = client.get("/accounts/oidc/login/?next=https://evil.example/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "Could not reach your company account" in response.content.decode()


# --- Against the real provider, in this process -----------------------------------------


@pytest.mark.django_db
def test_signing_in_at_the_provider_lands_on_the_account_with_that_employee_number(demo, sso_settings, rp):
    start = rp.get("/accounts/oidc/login/?next=/contacts/")
    assert start.status_code == 302
    authorize_url = start["Location"]
    assert authorize_url.startswith(f"{sso_settings.OIDC_LOGIN_ISSUER}/authorize/")
    assert "code_challenge_method=S256" in authorize_url and "nonce=" in authorize_url

    callback = sign_in_at_provider(authorize_url, "dave")
    assert callback.startswith("http://localhost/accounts/oidc/callback/?code=")
    landed = rp.get(path_of(callback))
    assert landed.status_code == 302 and landed["Location"] == "/contacts/"
    # The HR system's dave has carol's address: the employee number decided.
    assert signed_in_user_id(rp) == str(demo["dave"].pk)
    assert rp.get("/contacts/").status_code == 200


@pytest.mark.django_db
def test_refusing_consent_at_the_provider_says_so(demo, sso_settings, rp):
    start = rp.get("/accounts/oidc/login/")
    callback = sign_in_at_provider(start["Location"], "dave", allow=False)
    assert "error=access_denied" in callback
    page = rp.get(path_of(callback), follow=True)
    assert "Signing in with Acme HR was cancelled." in page.content.decode()
    assert signed_in_user_id(rp) is None


@pytest.mark.django_db
def test_an_hr_person_without_a_switchboard_account_is_refused(demo, sso_settings, rp):
    users = User.objects.count()
    start = rp.get("/accounts/oidc/login/")
    page = rp.get(path_of(sign_in_at_provider(start["Location"], "hr_only")), follow=True)
    assert "No Switchboard account matches this identity" in page.content.decode()
    assert signed_in_user_id(rp) is None
    assert User.objects.count() == users


@pytest.mark.django_db
def test_a_provider_whose_discovery_names_another_issuer_is_not_trusted(demo, sso_settings, rp):
    # The same provider under another name: its document says it is localhost, not 127.0.0.1.
    sso_settings.OIDC_LOGIN_ISSUER = sso_settings.OIDC_LOGIN_ISSUER.replace("localhost", "127.0.0.1")
    page = rp.get("/accounts/oidc/login/", follow=True)
    assert "Could not reach Acme HR" in page.content.decode()


# --- Live: the real Switchboard server and a real browser --------------------------------


@pytest.fixture
def sso_web(idp, services_env, tmp_path):
    """Switchboard served by Daphne on this test's database, signing in through the provider."""
    server = ServerProcess("web-sso", {**services_env, **login_env(idp)}, tmp_path, port=idp.main_port)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def sessions_of(user) -> list[Session]:
    from django.db import connection

    found = [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    connection.close()
    return found


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_callback_with_another_browsers_state_is_refused(demo, idp, sso_web):
    # The victim's browser starts a sign-in of its own...
    victim = requests.Session()
    started = victim.get(f"{sso_web.url}/accounts/oidc/login/", allow_redirects=False, timeout=10)
    assert started.status_code == 302 and started.headers["Location"].startswith(f"{idp.issuer}/authorize/")
    # ...and is handed a genuine code and state that were issued to somebody else's.
    other = requests.Session()
    foreign = other.get(f"{sso_web.url}/accounts/oidc/login/", allow_redirects=False, timeout=10)
    callback = sign_in_at_provider(foreign.headers["Location"], "dave")
    page = victim.get(callback, timeout=10)
    assert page.status_code == 200 and page.url == f"{sso_web.url}/accounts/login/"
    assert "This sign-in was not started in this browser" in page.text
    assert victim.get(f"{sso_web.url}/chat/", allow_redirects=False, timeout=10).status_code == 302
    assert sessions_of(demo["dave"]) == []


@pytest.mark.browser
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_dave_signs_in_with_his_hr_account_in_a_real_browser(demo, idp, sso_web, browser):
    page = browser.new_context(base_url=sso_web.url).new_page()
    page.goto("/chat/")
    expect(page).to_have_url(f"{sso_web.url}/accounts/login/?next=/chat/")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()

    # The HR system's own sign-in page, then its consent page.
    expect(page).to_have_url(re.compile(rf"^http://localhost:{idp.server.port}/accounts/login/"))
    page.get_by_label("Username").fill("dave")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^http://localhost:{idp.server.port}/o/authorize/"))
    page.locator("[name=allow]").click()

    expect(page).to_have_url(f"{sso_web.url}/chat/")
    expect(page.locator(".topbar-name")).to_have_text(demo["dave"].name)
    assert len(sessions_of(demo["dave"])) == 1
