"""Registering integrations, their scopes and grants, at the token endpoint (in process)."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.management import CommandError, call_command
from oauth2_provider.models import AccessToken

pytestmark = pytest.mark.django_db


def basic(client: dict) -> str:
    return "Basic " + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()


def token(http, client: dict, **data):
    return http.post("/o/token/", {"grant_type": "client_credentials", **data}, HTTP_AUTHORIZATION=basic(client))


def test_create_prints_one_json_line_and_list_and_revoke(register, client):
    created = register("Acme HR", "notify,directory:read")
    assert set(created) >= {"client_id", "client_secret", "scopes", "service_account"}
    assert created["scopes"] == ["directory:read", "notify"]
    assert created["service_account"] == "integration-acme-hr"
    out = io.StringIO()
    call_command("hr_client", "list", stdout=out)
    listed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [c["client_id"] for c in listed] == [created["client_id"]] and "client_secret" not in listed[0]
    assert token(client, created).status_code == 200

    out = io.StringIO()
    call_command("hr_client", "revoke", created["client_id"], stdout=out)
    assert json.loads(out.getvalue()) == {"client_id": created["client_id"], "revoked": True}
    assert not AccessToken.objects.exists()
    assert token(client, created).status_code == 401


def test_bad_registrations_are_refused(register):
    with pytest.raises(CommandError, match="Scopes must be some of"):
        register(scopes="notify,admin")
    with pytest.raises(CommandError, match="not a valid redirect URI"):
        register(scopes="openid", redirect_uri="not a url")


def test_a_client_gets_only_its_registered_scopes(register, client):
    hr = register(scopes="notify")
    granted = token(client, hr)
    assert granted.status_code == 200 and granted.json()["scope"] == "notify"
    assert granted.json()["expires_in"] <= 900
    refused = token(client, hr, scope="notify scim")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    # Nor the first-party scopes that act as a person.
    assert token(client, hr, scope="read").json()["error"] == "invalid_scope"


def test_no_password_grant_for_integrations(register, client, demo):
    hr = register(scopes="openid,profile", redirect_uri="http://127.0.0.1:9/callback")
    response = client.post(
        "/o/token/",
        {"grant_type": "password", "username": "alice", "password": "switchboard-demo"},
        HTTP_AUTHORIZATION=basic(hr),
    )
    assert response.status_code in (400, 401) and response.json()["error"] in ("unauthorized_client", "unsupported_grant_type")


def test_a_client_token_cannot_act_as_a_person(register, client, demo):
    hr = register(scopes="notify,directory:read")
    access = token(client, hr).json()["access_token"]
    for path in ("/api/v1/me/", "/api/v1/conversations/", "/api/v1/contacts/"):
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {access}")
        assert response.status_code in (401, 403), path
    # A person's token may not send notifications either.
    from accounts.services import token_issue_for_user

    personal = token_issue_for_user(user=demo["erin"])["access_token"]
    response = client.post(
        "/api/v1/notifications/", {"recipients": ["alice"], "title": "t", "text": "x", "client_id": "1"},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {personal}",
    )
    assert response.status_code == 403 and response.json()["code"] == "not_permitted"


def test_discovery_names_every_endpoint_and_only_the_code_flow(client):
    data = client.get("/o/.well-known/openid-configuration").json()
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                "introspection_endpoint", "revocation_endpoint"):
        assert data[key].startswith("http"), key
    assert data["response_types_supported"] == ["code"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "profile", "notify", "directory:read", "scim"} <= set(data["scopes_supported"])
    assert "read" not in data["scopes_supported"]
    jwks = client.get("/o/.well-known/jwks.json").json()
    assert jwks["keys"][0]["kty"] == "RSA"


def test_directory_read_scope_opens_the_directory_and_nothing_else(register, client, demo):
    reader = register("Directory reader", "directory:read")
    notifier = register("Notifier", "notify")
    read_token = token(client, reader).json()["access_token"]
    notify_token = token(client, notifier).json()["access_token"]
    people = client.get("/api/v1/directory/?q=carol", HTTP_AUTHORIZATION=f"Bearer {read_token}")
    assert people.status_code == 200 and [p["username"] for p in people.json()["results"]] == ["carol"]
    assert client.get("/api/v1/departments/", HTTP_AUTHORIZATION=f"Bearer {read_token}").status_code == 200
    # Without the scope: 403; and directory:read is no key to anything else.
    assert client.get("/api/v1/directory/", HTTP_AUTHORIZATION=f"Bearer {notify_token}").status_code == 403
    assert client.get("/api/v1/contacts/", HTTP_AUTHORIZATION=f"Bearer {read_token}").status_code in (401, 403)
    # People keep their access.
    client.force_login(demo["alice"])
    assert client.get("/api/v1/directory/?q=carol").status_code == 200
