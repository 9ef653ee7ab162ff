#!/usr/bin/env python3
"""An example HR portal that signs employees in with Switchboard (OpenID Connect).

One file, one process: Django (configured here, no project, no database) served by the
standard library's WSGI server, and Authlib as the OAuth 2 / OpenID Connect client.

    GET  /          the portal: who is signed in, or a "Sign in with Switchboard" button
    GET  /login     off to Switchboard's /o/authorize/ (authorization code, PKCE S256,
                    state and nonce, all kept in the portal's session by Authlib)
    GET  /callback  back from Switchboard: exchange the code, check the ID token, verify the
                    access token by introspection, read the employee's claims
    POST /logout    revoke the tokens at Switchboard and forget the session

Configuration (environment): SWITCHBOARD_URL, HR_PORTAL_CLIENT_ID, HR_PORTAL_CLIENT_SECRET,
PORT (8200), PORTAL_URL (http://127.0.0.1:PORT; the redirect URI is PORTAL_URL/callback).
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import datetime, timezone
from socketserver import ThreadingMixIn
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIServer, make_server

import django
import requests
from django.conf import settings

SWITCHBOARD_URL = os.environ.get("SWITCHBOARD_URL", "http://127.0.0.1:8000").rstrip("/")
PORT = int(os.environ.get("PORT") or 8200)
PORTAL_URL = os.environ.get("PORTAL_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
CLIENT_ID = os.environ.get("HR_PORTAL_CLIENT_ID", "")
CLIENT_SECRET = os.environ.get("HR_PORTAL_CLIENT_SECRET", "")

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("HR_PORTAL_SECRET_KEY") or secrets.token_urlsafe(40),
    ALLOWED_HOSTS=[urlsplit(PORTAL_URL).hostname or "127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    # Sessions live in this process's memory: tokens never travel in a cookie.
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
    # Browsers share cookies between the ports of one host: keep clear of Switchboard's
    # own sessionid and csrftoken when both run on 127.0.0.1.
    SESSION_COOKIE_NAME="hr_portal_session",
    CSRF_COOKIE_NAME="hr_portal_csrftoken",
    SESSION_COOKIE_SECURE=PORTAL_URL.startswith("https:"),
    CSRF_COOKIE_SECURE=PORTAL_URL.startswith("https:"),
    USE_TZ=True,
)
django.setup()

from authlib.integrations.django_client import OAuth, OAuthError  # noqa: E402  (needs settings)
from django.http import HttpResponse, HttpResponseRedirect  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.template import Context, Engine  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402
from joserfc.errors import JoseError  # noqa: E402  (Authlib's JOSE library: ID token checks)

oauth = OAuth()
switchboard = oauth.register(
    "switchboard",
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    server_metadata_url=f"{SWITCHBOARD_URL}/o/.well-known/openid-configuration",
    client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
)


# --- Talking to Switchboard ------------------------------------------------------------

def introspect(access_token: str) -> dict | None:
    """RFC 7662: ask Switchboard whether the token is alive, as this portal (HTTP Basic).
    Only an active token that Switchboard issued to this very portal counts."""
    endpoint = switchboard.load_server_metadata()["introspection_endpoint"]
    response = requests.post(
        endpoint,
        data={"token": access_token, "token_type_hint": "access_token"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    response.raise_for_status()
    info = response.json()
    if info.get("active") is True and info.get("client_id") == CLIENT_ID:
        return info
    return None


def revoke(token: dict) -> None:
    """RFC 7009: end the portal's tokens at Switchboard (the refresh token first)."""
    endpoint = switchboard.load_server_metadata()["revocation_endpoint"]
    for hint in ("refresh_token", "access_token"):
        if token.get(hint):
            requests.post(
                endpoint, data={"token": token[hint], "token_type_hint": hint},
                auth=(CLIENT_ID, CLIENT_SECRET), timeout=10,
            )


# --- Pages -----------------------------------------------------------------------------

PAGE = Engine(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{% if employee %}{{ employee.name }} · {% endif %}HR Portal</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2a37; background: #f3f5f4; }
  header { display: flex; align-items: center; gap: .6rem; padding: .8rem 1.25rem; background: #14532d; color: #fff; font-weight: 700; }
  .logo { display: inline-grid; place-items: center; width: 1.8rem; height: 1.8rem; border-radius: 6px; background: #fff; color: #14532d; }
  main { max-width: 560px; margin: 2.5rem auto; padding: 0 1rem; }
  .card { background: #fff; border: 1px solid #dfe5e2; border-radius: 12px; padding: 1.75rem; box-shadow: 0 1px 3px rgba(0,0,0,.06); }
  h1 { font-size: 1.4rem; margin: 0; }
  .muted { color: #64748b; margin: .25rem 0 0; }
  .small { font-size: .85rem; }
  .who { display: flex; align-items: center; gap: 1rem; margin-bottom: 1.25rem; }
  .avatar { flex: none; display: grid; place-items: center; width: 3.2rem; height: 3.2rem; border-radius: 50%; background: #dcfce7; color: #14532d; font-size: 1.3rem; font-weight: 700; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .5rem 1.25rem; margin: 0 0 1.25rem; padding: 1rem 0; border-top: 1px solid #eef1ef; border-bottom: 1px solid #eef1ef; }
  dt { color: #64748b; } dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
  .button { display: inline-block; font: inherit; font-weight: 600; padding: .65rem 1.1rem; border-radius: 8px; border: 1px solid #2f6fed; background: #2f6fed; color: #fff; text-decoration: none; cursor: pointer; }
  .button:hover { background: #1f55c4; }
  .button-quiet { background: #fff; color: #1f2a37; border-color: #d5dbe3; }
  .button-quiet:hover { background: #f3f5f4; }
  .mark { display: inline-grid; place-items: center; width: 1.4em; height: 1.4em; margin-right: .35em; border-radius: 5px; background: #fff; color: #2f6fed; font-size: .9em; }
  .row { display: flex; align-items: center; justify-content: space-between; gap: 1rem; flex-wrap: wrap; }
  .alert { padding: .7rem .9rem; border-radius: 8px; background: #fdecec; color: #8a1f1f; border: 1px solid #f5c2c2; margin: 0 0 1rem; }
  form { margin: 0; }
  @media (max-width: 480px) { main { margin-top: 1.25rem; } .card { padding: 1.25rem; } dl { grid-template-columns: 1fr; gap: .1rem; } dd { margin-bottom: .5rem; } }
</style></head>
<body>
<header><span class="logo" aria-hidden="true">◆</span> HR Portal</header>
<main>
  {% if error %}<p class="alert" role="alert" data-testid="portal-error">{{ error }}</p>{% endif %}
  {% if employee %}
  <section class="card" data-testid="employee">
    <div class="who">
      <span class="avatar" aria-hidden="true">{{ employee.name|first|upper }}</span>
      <div><h1 data-testid="employee-name">{{ employee.name }}</h1><p class="muted">{{ employee.title|default:"" }}</p></div>
    </div>
    <dl>
      <dt>Username</dt><dd data-testid="employee-username">{{ employee.preferred_username }}</dd>
      <dt>Employee number</dt><dd data-testid="employee-number">{{ employee.employee_number|default:"—" }}</dd>
      <dt>Department</dt><dd data-testid="employee-department">{{ employee.department|default:"—" }}</dd>
      <dt>Title</dt><dd data-testid="employee-title">{{ employee.title|default:"—" }}</dd>
    </dl>
    <div class="row">
      <p class="muted small">Signed in with Switchboard · token verified until {{ expires }}</p>
      <form method="post" action="/logout"><input type="hidden" name="csrfmiddlewaretoken" value="{{ csrf_token }}">
        <button type="submit" class="button button-quiet" data-testid="sign-out">Sign out</button></form>
    </div>
  </section>
  {% else %}
  <section class="card">
    <h1>Welcome to the HR portal</h1>
    <p class="muted">Payslips, leave balances and reviews. Sign in with your Switchboard account: no second password.</p>
    <p style="margin: 1.5rem 0 0"><a class="button" href="/login" data-testid="sign-in"><span class="mark" aria-hidden="true">⇄</span>Sign in with Switchboard</a></p>
  </section>
  {% endif %}
</main>
</body></html>
""")


def render(request, *, status: int = 200, error: str = "", **context) -> HttpResponse:
    context = {"error": error, "csrf_token": get_token(request), **context}
    return HttpResponse(PAGE.render(Context(context)), status=status)


@require_GET
def home(request):
    token = request.session.get("token")
    if not token:
        return render(request)
    # Checked on every page: a token that Switchboard no longer vouches for (expired,
    # revoked, the portal's registration revoked) ends the portal's session too.
    try:
        info = introspect(token["access_token"])
    except requests.RequestException:
        return render(request, status=502, error="Switchboard cannot be reached just now; try again in a moment.")
    employee = request.session["employee"]
    if info is None or info.get("username") != employee["preferred_username"]:
        request.session.flush()
        return render(request, error="Your Switchboard sign-in has ended. Sign in again.")
    expires = datetime.fromtimestamp(info["exp"], tz=timezone.utc).astimezone().strftime("%H:%M")
    return render(request, employee=employee, expires=expires)


@require_GET
def login(request):
    try:
        return switchboard.authorize_redirect(request, f"{PORTAL_URL}/callback")
    except requests.RequestException:
        return render(request, status=502, error="Switchboard cannot be reached just now; try again in a moment.")


@require_GET
def callback(request):
    try:
        # Checks state (against this session), sends the PKCE verifier with the code, and
        # verifies the ID token: signature (JWKS), issuer, audience, expiry and nonce.
        token = switchboard.authorize_access_token(request)
        info = introspect(token["access_token"])
        id_claims, userinfo = token.get("userinfo") or {}, switchboard.userinfo(token=token)
    except OAuthError as error:
        reason = {
            "access_denied": "you declined to share your details",
            "mismatching_state": "it was not started here, or it was already used",
        }.get(error.error, error.description or error.error)
        return render(request, status=400, error=f"Sign-in did not complete: {reason}.")
    except JoseError as error:  # a bad signature, issuer, audience, expiry or nonce
        return render(request, status=400, error=f"Sign-in did not complete: the ID token is not valid ({error}).")
    except (requests.RequestException, ValueError):
        return render(request, status=502, error="Switchboard could not confirm the sign-in; try again.")
    # One and the same employee in the ID token, the userinfo and the introspection answer.
    claims = {**id_claims, **userinfo}
    if not (info and id_claims.get("sub") and userinfo.get("sub") == id_claims["sub"]
            and info.get("username") == claims.get("preferred_username")):
        return render(request, status=403, error="Switchboard did not vouch for that sign-in.")
    request.session.cycle_key()  # a fresh session id for the signed-in session
    request.session["token"] = {k: token.get(k) for k in ("access_token", "refresh_token")}
    request.session["employee"] = {
        k: claims.get(k) for k in ("sub", "name", "preferred_username", "employee_number", "department", "title")
    }
    return HttpResponseRedirect("/")


@require_POST
def logout(request):
    token = request.session.get("token")
    request.session.flush()
    if token:
        try:
            revoke(token)
        except requests.RequestException:
            pass  # signed out here anyway; the token expires within 15 minutes
    return HttpResponseRedirect("/")


urlpatterns = [path("", home), path("login", login), path("callback", callback), path("logout", logout)]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    if not (CLIENT_ID and CLIENT_SECRET):
        sys.exit("Set HR_PORTAL_CLIENT_ID and HR_PORTAL_CLIENT_SECRET (from manage.py hr_client create).")
    from django.core.wsgi import get_wsgi_application

    host = os.environ.get("HOST", "127.0.0.1")
    with make_server(host, PORT, get_wsgi_application(), server_class=ThreadingWSGIServer) as server:
        print(f"HR portal on {PORTAL_URL}/ (Switchboard at {SWITCHBOARD_URL})", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
