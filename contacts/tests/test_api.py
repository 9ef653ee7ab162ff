"""The address book's REST API: shapes, permissions and error codes."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from contacts.models import FriendRequest

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/contacts/", "/api/v1/directory/", "/api/v1/departments/", "/api/v1/friend-requests/"]


@pytest.mark.parametrize("path", ENDPOINTS + ["/api/v1/me/"])
def test_anonymous_requests_get_401_json(path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_bearer_token_gets_401(demo):
    response = APIClient().get("/api/v1/contacts/", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_contacts_shape(demo, api_for):
    response = api_for(demo["alice"]).get("/api/v1/contacts/")
    assert response.status_code == 200
    people = {p["username"]: p for p in response.json()}
    assert sorted(people) == ["bob", "dev_lead"]
    assert people["dev_lead"] == {
        "id": demo["dev_lead"].id,
        "username": "dev_lead",
        "display_name": "Diego Alvarez",
        "department": {"id": people["dev_lead"]["department"]["id"], "code": "dev", "name": "Development"},
        "title": "Head of Development",
        "is_manager": True,
    }
    assert people["bob"]["is_manager"] is False


@pytest.mark.parametrize("username", ["alice", "president"])
def test_contacts_query_count_is_fixed(demo, api_for, username):
    # The viewer's departments and rules (6), the people they cover (2), the active filter
    # (1), the cards with their departments (2), one more for an all-managers rule: fixed,
    # whatever the number of contacts.
    client = api_for(demo[username])
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/contacts/").status_code == 200
    assert len(queries) <= 13, [q["sql"] for q in queries]


def test_directory_covers_the_whole_company(demo, api_for):
    client = api_for(demo["alice"])
    by_department = client.get("/api/v1/directory/", {"q": "marketing"}).json()
    assert {p["username"] for p in by_department["results"]} == {"mkt_lead", "dave"}
    by_title = client.get("/api/v1/directory/", {"q": "account executive"}).json()
    assert [p["username"] for p in by_title["results"]] == ["carol"]
    by_name = client.get("/api/v1/directory/", {"q": "hannah"}).json()
    assert [p["username"] for p in by_name["results"]] == ["hr_lead"]
    everyone = client.get("/api/v1/directory/").json()
    assert everyone["count"] == 12


def test_department_tree(demo, api_for):
    tree = api_for(demo["erin"]).get("/api/v1/departments/").json()
    assert len(tree) == 1
    root = tree[0]
    assert root["code"] == "company" and root["manager"]["username"] == "president"
    children = {c["code"]: c for c in root["children"]}
    assert set(children) == {"office", "dev", "sales", "marketing", "hr"}
    assert {m["username"] for m in children["dev"]["members"]} == {"dev_lead", "alice", "bob"}


def test_friend_request_flow(demo, api_for):
    alice, carol = api_for(demo["alice"]), api_for(demo["carol"])
    created = alice.post("/api/v1/friend-requests/", {"to": demo["carol"].id, "message": "Lunch?"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "pending" and body["to_user"]["username"] == "carol"
    listed = carol.get("/api/v1/friend-requests/").json()
    assert [r["id"] for r in listed["incoming"]] == [body["id"]] and listed["outgoing"] == []
    accepted = carol.post(f"/api/v1/friend-requests/{body['id']}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert "carol" in {p["username"] for p in alice.get("/api/v1/contacts/").json()}


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"to": "self"}, "self_request"),
        ({}, "invalid"),
        ({"to": "abc"}, "invalid"),
        ({"to": 99999999}, "not_found"),
    ],
)
def test_friend_request_errors(demo, api_for, payload, code):
    if payload.get("to") == "self":
        payload = {"to": demo["alice"].id}
    response = api_for(demo["alice"]).post("/api/v1/friend-requests/", payload, format="json")
    assert response.status_code in (400, 404)
    assert response.json()["code"] == code and response.json()["detail"]
    assert not FriendRequest.objects.exists()


def test_duplicate_friend_request_is_400(demo, api_for):
    alice = api_for(demo["alice"])
    alice.post("/api/v1/friend-requests/", {"to": demo["carol"].id}, format="json")
    response = alice.post("/api/v1/friend-requests/", {"to": demo["carol"].id}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "duplicate"
    assert FriendRequest.objects.count() == 1


def test_malformed_json_is_400_invalid(demo, api_for):
    response = api_for(demo["alice"]).post(
        "/api/v1/friend-requests/", data="{nope", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_only_the_recipient_may_answer(demo, api_for):
    fr = FriendRequest.objects.create(from_user=demo["alice"], to_user=demo["carol"])
    sender = api_for(demo["alice"]).post(f"/api/v1/friend-requests/{fr.id}/accept/")
    assert sender.status_code == 403 and sender.json()["code"] == "not_permitted"
    stranger = api_for(demo["bob"]).post(f"/api/v1/friend-requests/{fr.id}/decline/")
    assert stranger.status_code == 404 and stranger.json()["code"] == "not_found"
    fr.refresh_from_db()
    assert fr.status == "pending"
    declined = api_for(demo["carol"]).post(f"/api/v1/friend-requests/{fr.id}/decline/")
    assert declined.json()["status"] == "declined"
    again = api_for(demo["carol"]).post(f"/api/v1/friend-requests/{fr.id}/accept/")
    assert again.status_code == 409 and again.json()["code"] == "not_pending"


def test_unknown_api_path_is_json_404(demo, api_for):
    response = api_for(demo["alice"]).get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_wrong_method_is_405_json(demo, api_for):
    response = api_for(demo["alice"]).delete("/api/v1/contacts/")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_openapi_schema_and_docs(demo, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ["/api/v1/contacts/", "/api/v1/friend-requests/{request_id}/accept/", "/api/v1/auth/token/"]:
        assert path in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI is served locally: every script and stylesheet comes from this site. (A
    # search for "cdn" in the page would also hit the random CSRF token now and then.)
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.content.decode())
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets), assets
