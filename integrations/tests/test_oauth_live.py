"""The provider and the HR API against a live server, driven by a real OAuth client library
(Authlib): authorization code + PKCE, ID token and userinfo, refresh rotation and reuse,
introspection, revocation, client credentials, the refusals, and a notice reaching a socket."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
import websockets
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet
from oauth2_provider.models import Application

from accounts.models import User
from accounts.services import token_issue_for_user

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(autouse=True)
def _server_hashers(settings):
    """Client secrets are hashed here and checked by the server: with the server's hashers."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def browser_session(web, user) -> requests.Session:
    """A signed-in browser, as far as the authorization endpoint can tell."""
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)
    connection.close()
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value, domain="127.0.0.1")
    return session


@pytest.fixture
def portal(register, demo):
    """An HR portal client allowed to sign people in without a consent screen."""
    created = register("HR portal", "openid,profile,email", redirect_uri=REDIRECT)
    Application.objects.filter(client_id=created["client_id"]).update(skip_authorization=True)
    return created


def authorize(web, user, portal, **params) -> tuple[OAuth2Session, str, requests.Response]:
    oauth = OAuth2Session(
        portal["client_id"], portal["client_secret"], scope="openid profile", redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    verifier = generate_token(48)
    uri, _state = oauth.create_authorization_url(f"{web.url}/o/authorize/", code_verifier=verifier, nonce="n-42", **params)
    response = browser_session(web, user).get(uri, allow_redirects=False)
    return oauth, verifier, response


def test_authorization_code_with_pkce_id_token_userinfo_and_refresh_rotation(web_worker, demo, portal):
    web = web_worker
    oauth, verifier, response = authorize(web, demo["carol"], portal)
    assert response.status_code == 302 and response.headers["Location"].startswith(REDIRECT + "?")
    token = oauth.fetch_token(
        f"{web.url}/o/token/", authorization_response=response.headers["Location"], code_verifier=verifier
    )
    assert token["expires_in"] <= 900 and set(token["scope"].split()) == {"openid", "profile"}

    discovery = requests.get(f"{web.url}/o/.well-known/openid-configuration", timeout=10).json()
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys)
    assert id_token.header["alg"] == "RS256"
    claims = id_token.claims
    assert claims["aud"] == portal["client_id"] and claims["nonce"] == "n-42"
    assert claims["iss"] == discovery["issuer"] and claims["sub"] == str(demo["carol"].pk)
    assert claims["employee_number"] == demo["carol"].employee_number

    userinfo = oauth.get(discovery["userinfo_endpoint"], timeout=10).json()
    assert userinfo["preferred_username"] == "carol" and userinfo["department"] == "sales"
    assert "email" not in userinfo  # not asked for

    # The token works for the identity endpoints only: it is no key to carol's messages.
    assert requests.get(f"{web.url}/api/v1/conversations/", headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10).status_code == 403

    # Refresh tokens rotate; presenting a used one revokes the whole family.
    first_refresh = token["refresh_token"]
    rotated = oauth.refresh_token(f"{web.url}/o/token/", refresh_token=first_refresh)
    assert rotated["refresh_token"] != first_refresh
    with pytest.raises(OAuthError) as reused:
        oauth.refresh_token(f"{web.url}/o/token/", refresh_token=first_refresh)
    assert reused.value.error == "invalid_grant"
    with pytest.raises(OAuthError):
        oauth.refresh_token(f"{web.url}/o/token/", refresh_token=rotated["refresh_token"])


def test_introspection_needs_client_authentication_and_revocation_ends_a_token(web_worker, demo, portal):
    web = web_worker
    oauth, verifier, response = authorize(web, demo["carol"], portal)
    token = oauth.fetch_token(f"{web.url}/o/token/", authorization_response=response.headers["Location"], code_verifier=verifier)
    introspect = f"{web.url}/o/introspect/"
    credentials = (portal["client_id"], portal["client_secret"])

    anonymous = requests.post(introspect, data={"token": token["access_token"]}, timeout=10)
    assert anonymous.status_code in (401, 403) and "active" not in anonymous.text
    wrong = requests.post(introspect, data={"token": token["access_token"]}, auth=(portal["client_id"], "wrong"), timeout=10)
    assert wrong.status_code in (401, 403)
    answer = requests.post(introspect, data={"token": token["access_token"]}, auth=credentials, timeout=10).json()
    assert answer["active"] is True and answer["username"] == "carol" and answer["client_id"] == portal["client_id"]

    assert oauth.revoke_token(f"{web.url}/o/revoke_token/", token=token["access_token"], token_type_hint="access_token").status_code == 200
    assert requests.post(introspect, data={"token": token["access_token"]}, auth=credentials, timeout=10).json() == {"active": False}


def test_the_refusals(web_worker, demo, portal, register):
    web = web_worker
    carol = browser_session(web, demo["carol"])
    base = {"client_id": portal["client_id"], "redirect_uri": REDIRECT, "scope": "openid", "state": "s"}
    challenge = {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}

    # No implicit grant: no token ever appears in a redirect.
    implicit = carol.get(f"{web.url}/o/authorize/", params={**base, **challenge, "response_type": "token"}, allow_redirects=False)
    assert "access_token" not in implicit.headers.get("Location", "") + implicit.text
    assert "error=unauthorized_client" in implicit.headers["Location"] and "#" not in implicit.headers["Location"]
    # Redirect URIs match exactly; a wrong one is never redirected to.
    for uri in (REDIRECT + "/x", REDIRECT + "?next=evil", "http://127.0.0.1:9/"):
        wrong = carol.get(f"{web.url}/o/authorize/", params={**base, **challenge, "response_type": "code", "redirect_uri": uri}, allow_redirects=False)
        assert wrong.status_code == 400, uri
    # PKCE is required, and only S256.
    no_pkce = carol.get(f"{web.url}/o/authorize/", params={**base, "response_type": "code"}, allow_redirects=False)
    assert "error=invalid_request" in no_pkce.headers.get("Location", "")
    plain = carol.get(f"{web.url}/o/authorize/", params={**base, "response_type": "code", "code_challenge": "x" * 43, "code_challenge_method": "plain"}, allow_redirects=False)
    assert "error=" in plain.headers.get("Location", "") and "code=" not in plain.headers.get("Location", "")
    # A scope the client was not registered with.
    notifier = register("Notifier", "notify")
    session = OAuth2Session(notifier["client_id"], notifier["client_secret"])
    with pytest.raises(OAuthError) as refused:
        session.fetch_token(f"{web.url}/o/token/", grant_type="client_credentials", scope="notify scim")
    assert refused.value.error == "invalid_scope"
    # No password grant for anyone but Switchboard's own client.
    with pytest.raises(OAuthError):
        OAuth2Session(portal["client_id"], portal["client_secret"]).fetch_token(
            f"{web.url}/o/token/", grant_type="password", username="carol", password="switchboard-demo"
        )


def test_a_notice_reaches_an_open_socket_and_reports_read(web_worker, demo, register):
    web = web_worker
    hr = register("Acme HR", "notify")
    session = OAuth2Session(hr["client_id"], hr["client_secret"], scope="notify")
    session.fetch_token(f"{web.url}/o/token/", grant_type="client_credentials")
    alice_token = token_issue_for_user(user=demo["alice"])["access_token"]

    async def scenario():
        async with websockets.connect(web.ws_url, additional_headers={"Authorization": f"Bearer {alice_token}"}) as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
            sent = await asyncio.to_thread(
                session.post, f"{web.url}/api/v1/notifications/",
                json={"recipients": ["alice", "ghost"], "title": "Review due", "text": "Your review is due on Friday.",
                      "link": "https://hr.example/reviews", "client_id": "review-1"},
                timeout=10,
            )
            assert sent.status_code == 202
            result = sent.json()
            assert [(r["recipient"], r["status"]) for r in result["recipients"]] == [("alice", "delivered"), ("ghost", "unknown")]
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if frame["type"] == "message":
                    break
            assert frame["app"] == "notice" and frame["body"]["title"] == "Review due"
            assert frame["sender"] == await asyncio.to_thread(lambda: User.objects.get(username="integration-acme-hr").pk)
            status = (await asyncio.to_thread(session.get, f"{web.url}/api/v1/notifications/{result['id']}/", timeout=10)).json()
            assert status["recipients"][0]["delivered"] is True and status["recipients"][0]["read"] is False
            await ws.send(json.dumps({"type": "read", "conversation": frame["conversation"], "seq": frame["seq"]}))
            for _ in range(50):
                status = (await asyncio.to_thread(session.get, f"{web.url}/api/v1/notifications/{result['id']}/", timeout=10)).json()
                if status["recipients"][0]["read"]:
                    break
                await asyncio.sleep(0.1)
            assert status["recipients"][0]["read"] is True

    asyncio.run(scenario())


def test_a_sign_in_token_opens_no_socket_and_reads_no_history(web_worker, demo, portal):
    """The HR portal signs carol in with ``openid profile``: that token says who she is and
    nothing more. It cannot open /ws/ (closed with 4403 after an error frame, no hello, no
    replay) nor read her conversations over REST."""
    web = web_worker
    oauth, verifier, response = authorize(web, demo["carol"], portal)
    token = oauth.fetch_token(
        f"{web.url}/o/token/", authorization_response=response.headers["Location"], code_verifier=verifier
    )
    assert set(token["scope"].split()) == {"openid", "profile"}
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    async def scenario():
        frames = []
        async with websockets.connect(web.ws_url, additional_headers=headers) as ws:
            try:
                async with asyncio.timeout(10):
                    async for frame in ws:
                        frames.append(json.loads(frame))
            except (websockets.ConnectionClosed, TimeoutError):
                pass
            return frames, ws.close_code

    frames, code = asyncio.run(scenario())
    assert [f["type"] for f in frames] == ["error"] and frames[0]["code"] == "not_permitted"
    assert code == 4403
    assert requests.get(f"{web.url}/api/v1/conversations/", headers=headers, timeout=10).status_code == 403
    assert requests.get(f"{web.url}/o/userinfo/", headers=headers, timeout=10).status_code == 200
