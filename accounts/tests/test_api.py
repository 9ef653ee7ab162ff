"""Tokens and the current user, through the real token endpoint and Bearer authentication."""

import logging

import pytest
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def get_token(username, password="switchboard-demo", **extra):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json", **extra)


def test_token_endpoint_issues_a_bearer_token(demo):
    response = get_token("alice")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900
    token = AccessToken.objects.get(user=demo["alice"])
    assert token.application.client_id == "switchboard-first-party"
    assert token.token != body["access_token"]  # stored hashed (RFC 9700)

    me = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["department"]["code"] == "dev"


def test_refresh_token_works_at_the_oauth_endpoint(demo):
    body = get_token("bob").json()
    refreshed = APIClient().post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": "switchboard-first-party"},
    )
    assert refreshed.status_code == 200, refreshed.content
    assert refreshed.json()["access_token"] != body["access_token"]
    assert refreshed.json()["refresh_token"] != body["refresh_token"]


@pytest.mark.parametrize("payload", [{"username": "alice", "password": "wrong"}, {"username": "nobody", "password": "x"}])
def test_wrong_credentials_get_401(demo, payload):
    response = APIClient().post(TOKEN_URL, payload, format="json")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    assert not AccessToken.objects.exists()


def test_missing_fields_get_400(demo):
    response = APIClient().post(TOKEN_URL, {"username": "alice"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "password" in response.json()["fields"]


def test_repeated_failures_lock_that_username_from_that_address(demo, caplog):
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        get_token("alice", "wrong", REMOTE_ADDR="10.0.0.5")
    locked = get_token("alice", REMOTE_ADDR="10.0.0.5")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert int(locked["Retry-After"]) > 0
    assert not AccessToken.objects.exists()
    assert any("locked out" in r.getMessage() and "alice" in r.getMessage() for r in caplog.records)
    # Another address, and another user from the same address, are not locked.
    assert get_token("alice", REMOTE_ADDR="10.0.0.6").status_code == 200
    assert get_token("bob", REMOTE_ADDR="10.0.0.5").status_code == 200


def test_a_read_only_token_cannot_write_over_rest(demo):
    from oauth2_provider.models import AccessToken

    token = get_token("alice").json()["access_token"]
    AccessToken.objects.filter(user=demo["alice"]).update(scope="read")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/contacts/").status_code == 200
    refused = client.post("/api/v1/friend-requests/", {"to": demo["carol"].id}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"


def test_employees_cannot_register_oauth_clients(demo, client):
    client.force_login(demo["alice"])
    assert client.get("/o/applications/register/").status_code == 404
    assert client.get("/o/applications/").status_code == 404
