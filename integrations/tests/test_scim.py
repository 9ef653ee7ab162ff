"""SCIM 2.0 provisioning at /scim/v2/ with a real client-credentials token from /o/token/:
discovery, the life of a User (create, read, filter, patch, replace, deactivate), Groups as
departments, SCIM's error format, and one run against a live server with a socket open."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient
from django.test import TestCase

from accounts.models import User
from accounts.services import token_issue_for_user
from contacts.models import Department, Membership
from integrations import services as integration_services
from integrations.scim.filters import MAX_FILTER_DEPTH, MAX_FILTER_TERMS
from integrations.scim.schemas import ENTERPRISE_USER, ERROR, GROUP, LIST_RESPONSE, PATCH_OP, USER
from messaging.models import Conversation

SCIM = "application/scim+json"


def client_token(http: HttpClient, *, scopes: list[str], name: str = "Okta") -> str:
    """Register an integration and get a token the way it does: client credentials."""
    client, secret = integration_services.client_register(name=name, scopes=scopes)
    basic = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    response = http.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == " ".join(scopes)
    return response.json()["access_token"]


class Scim:
    """The test client speaking SCIM with a Bearer token, running on-commit events."""

    def __init__(self, token: str | None) -> None:
        self.http = HttpClient()
        self.token = token

    def request(self, method: str, path: str, body=None, **headers):
        if self.token:
            headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.token}")
        kwargs = {"content_type": SCIM, "data": json.dumps(body)} if body is not None else {}
        with TestCase.captureOnCommitCallbacks(execute=True):
            return getattr(self.http, method)(f"/scim/v2/{path}", **kwargs, **headers)

    def get(self, path, **headers):
        return self.request("get", path, **headers)

    def query(self, resource: str, **params):
        """GET with query parameters (``filter``, ``attributes``…) encoded as clients do."""
        return self.request("get", f"{resource}?{urlencode(params)}")

    def post(self, path, body, **headers):
        return self.request("post", path, body, **headers)

    def put(self, path, body, **headers):
        return self.request("put", path, body, **headers)

    def patch(self, path, operations, **headers):
        return self.request("patch", path, {"schemas": [PATCH_OP], "Operations": operations}, **headers)

    def delete(self, path, **headers):
        return self.request("delete", path, **headers)


@pytest.fixture
def scim(db) -> Scim:
    return Scim(client_token(HttpClient(), scopes=["scim"]))


def scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == SCIM
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    assert body.get("scimType") == scim_type
    return body


def new_user(**overrides) -> dict:
    user = {
        "schemas": [USER, ENTERPRISE_USER],
        "externalId": "00u1okta",
        "userName": "Grace.Hopper@example.com",
        "name": {"givenName": "Grace", "familyName": "Hopper"},
        "displayName": "Grace Hopper",
        "title": "Rear Admiral",
        "active": True,
        "emails": [{"value": "grace@example.com", "type": "work", "primary": True}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
        ENTERPRISE_USER: {"employeeNumber": "E9001", "department": "dev"},
    }
    user.update(overrides)
    return user


# --- discovery ---------------------------------------------------------------------------


def test_discovery_documents(scim):
    config = scim.get("ServiceProviderConfig")
    assert config.status_code == 200 and config["Content-Type"] == SCIM
    config = config.json()
    assert config["patch"] == {"supported": True}
    assert config["filter"]["supported"] is True and config["filter"]["maxResults"] == 200
    assert config["bulk"]["supported"] is False and config["etag"]["supported"] is True
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"

    types = scim.get("ResourceTypes").json()
    assert types["schemas"] == [LIST_RESPONSE] and types["totalResults"] == 2
    user_type = next(t for t in types["Resources"] if t["id"] == "User")
    assert user_type["endpoint"] == "/Users" and user_type["schema"] == USER
    assert user_type["schemaExtensions"] == [{"schema": ENTERPRISE_USER, "required": False}]
    assert user_type["meta"]["location"] == "http://testserver/scim/v2/ResourceTypes/User"
    assert scim.get("ResourceTypes/Group").json()["schema"] == GROUP

    schemas = {s["id"]: s for s in scim.get("Schemas").json()["Resources"]}
    assert set(schemas) == {USER, ENTERPRISE_USER, GROUP}
    user_name = next(a for a in schemas[USER]["attributes"] if a["name"] == "userName")
    assert user_name["required"] is True and user_name["uniqueness"] == "server" and user_name["caseExact"] is False
    assert {a["name"] for a in schemas[ENTERPRISE_USER]["attributes"]} == {"employeeNumber", "department"}
    assert {a["name"] for a in schemas[GROUP]["attributes"]} == {"displayName", "members"}
    assert scim.get(f"Schemas/{ENTERPRISE_USER}").json()["name"] == "EnterpriseUser"

    scim_error(scim.get("Schemas?filter=id+eq+%22x%22"), 403)
    scim_error(scim.get("Schemas/urn:nope"), 404)
    scim_error(scim.get("Nothing/here"), 404)


def test_discovery_is_left_out_of_the_rest_api_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert not [path for path in schema["paths"] if "scim" in path.lower()]


# --- Users -------------------------------------------------------------------------------


def test_create_get_filter_patch_replace(scim, demo):
    created = scim.post("Users", new_user())
    assert created.status_code == 201, created.content
    assert created["Content-Type"] == SCIM
    body = created.json()
    user = User.objects.get(username="Grace.Hopper@example.com")
    assert created["Location"] == body["meta"]["location"] == f"http://testserver/scim/v2/Users/{user.pk}"
    assert created["ETag"] == body["meta"]["version"]
    assert body["id"] == str(user.pk) and body["externalId"] == "00u1okta"
    assert body["schemas"] == [USER, ENTERPRISE_USER]
    assert body["name"] == {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"}
    assert body["emails"] == [{"value": "grace@example.com", "type": "work", "primary": True}]
    assert body[ENTERPRISE_USER] == {"employeeNumber": "E9001", "department": "Development"}
    assert body["groups"][0]["display"] == "Development" and body["active"] is True
    assert body["meta"]["resourceType"] == "User" and body["meta"]["created"].endswith("Z")
    assert (user.first_name, user.last_name, user.display_name) == ("Grace", "Hopper", "Grace Hopper")
    assert user.title == "Rear Admiral"
    assert (user.email, user.phone, user.employee_number) == ("grace@example.com", "+1 555 0100", "E9001")
    assert not user.has_usable_password() and user.is_active
    membership = Membership.objects.get(user=user)
    assert membership.department.code == "dev" and membership.is_primary
    # Department conversations follow the memberships.
    dev_chat = Conversation.objects.get(department__code="dev")
    assert dev_chat.memberships.filter(user=user).exists()

    fetched = scim.get(f"Users/{user.pk}")
    assert fetched.status_code == 200 and fetched.json() == body
    assert scim.get(f"Users/{user.pk}", HTTP_IF_NONE_MATCH=fetched["ETag"]).status_code == 304

    for query in (
        'userName eq "grace.hopper@EXAMPLE.com"',
        'externalId eq "00u1okta"',
        'emails.value eq "grace@example.com"',
        'emails[type eq "work" and value co "grace@"]',
        'userName sw "grace" and active eq true',
        'userName eq "nobody" or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E9001"',
        f'{ENTERPRISE_USER}:department eq "Development" and title sw "rear" and title pr',
        'not (userName ne "Grace.Hopper@example.com")',
    ):
        found = scim.query("Users", filter=query)
        assert found.status_code == 200, (query, found.content)
        assert [r["id"] for r in found.json()["Resources"]] == [str(user.pk)], query
    nothing = scim.query("Users", filter='externalId eq "00U1OKTA"')  # externalId is case-exact
    assert nothing.json()["totalResults"] == 0 and nothing.json()["Resources"] == []

    # Entra ID's shapes: capitalised ops, paths with value filters, enterprise URNs.
    patched = scim.patch(
        f"Users/{user.pk}",
        [
            {"op": "Replace", "path": "displayName", "value": "Amazing Grace"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ghopper@example.com"},
            {"op": "Add", "path": "name.givenName", "value": "Grace B."},
            {"op": "Replace", "path": f"{ENTERPRISE_USER}:department", "value": "Sales"},
            {"op": "Add", "path": "addresses", "value": [{"type": "work", "locality": "Arlington"}]},
            {"op": "Remove", "path": "phoneNumbers"},
        ],
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["displayName"] == "Amazing Grace" and "phoneNumbers" not in patched.json()
    assert patched["ETag"] != created["ETag"]
    user.refresh_from_db()
    assert (user.display_name, user.email) == ("Amazing Grace", "ghopper@example.com")
    assert (user.first_name, user.phone) == ("Grace B.", "")
    assert list(Membership.objects.filter(user=user).values_list("department__code", "is_primary")) == [("sales", True)]
    assert not dev_chat.memberships.filter(user=user).exists()
    assert Conversation.objects.get(department__code="sales").memberships.filter(user=user).exists()

    # PUT replaces: what it leaves out is cleared, except active and an absent extension.
    replaced = scim.put(
        f"Users/{user.pk}",
        {"schemas": [USER], "userName": "ghopper", "externalId": "00u1okta", "name": {"familyName": "Hopper"}},
    )
    assert replaced.status_code == 200, replaced.content
    user.refresh_from_db()
    assert (user.username, user.first_name, user.last_name, user.display_name, user.email, user.title) == (
        "ghopper", "", "Hopper", "", "", ""
    )
    assert user.employee_number == "E9001" and user.is_active
    assert Membership.objects.get(user=user).department.code == "sales"
    assert replaced.json()["userName"] == "ghopper"


def test_patch_shapes_identity_providers_send(scim, demo):
    carol = demo["carol"]
    path_keys = scim.patch(
        f"Users/{carol.pk}",
        [
            {
                "op": "replace",
                "value": {"id": str(carol.pk), "name.familyName": "Davis-Lee", f"{ENTERPRISE_USER}:employeeNumber": "E7777"},
            },
            {"op": "add", "value": {ENTERPRISE_USER: {"department": "Human Resources"}}},
            {"op": "add", "value": {"emails": [{"value": "carol@new.example", "primary": True}]}},
            {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0199"},
            {"op": "Replace", "path": "name.formatted", "value": "ignored, it is derived"},
            {"op": "Add", "path": "externalId", "value": "entra-carol"},
        ],
    )
    assert path_keys.status_code == 200, path_keys.content
    carol.refresh_from_db()
    assert (carol.last_name, carol.employee_number) == ("Davis-Lee", "E7777")
    assert (carol.email, carol.phone) == ("carol@new.example", "+1 555 0199")
    assert list(Membership.objects.filter(user=carol).values_list("department__code", "is_primary")) == [("hr", True)]
    body = path_keys.json()
    assert body["externalId"] == "entra-carol"
    assert body["emails"] == [{"value": "carol@new.example", "type": "work", "primary": True}]

    # Removing the department, or the whole extension, clears it.
    assert scim.patch(f"Users/{carol.pk}", [{"op": "remove", "path": f"{ENTERPRISE_USER}:department"}]).status_code == 200
    assert not Membership.objects.filter(user=carol).exists()
    assert scim.patch(f"Users/{carol.pk}", [{"op": "remove", "path": ENTERPRISE_USER}]).status_code == 200
    carol.refresh_from_db()
    assert carol.employee_number is None

    # Plain JSON is accepted and answered in kind.
    as_json = scim.get(f"Users/{carol.pk}", HTTP_ACCEPT="application/json")
    assert as_json.status_code == 200 and as_json["Content-Type"] == "application/json"


def test_attributes_paging_and_query_count(scim, demo, django_assert_max_num_queries):
    people = User.objects.filter(is_service_account=False).count()
    listed = scim.get("Users?attributes=userName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
    alice = next(r for r in listed.json()["Resources"] if r["userName"] == "alice")
    assert alice == {
        "schemas": [USER, ENTERPRISE_USER],
        "id": str(demo["alice"].pk),
        "userName": "alice",
        ENTERPRISE_USER: {"employeeNumber": demo["alice"].employee_number},
    }
    admin = next(r for r in listed.json()["Resources"] if r["userName"] == "admin")
    assert admin == {"schemas": [USER], "id": str(demo["admin"].pk), "userName": "admin"}
    assert listed.json()["totalResults"] == people

    slim = scim.get("Users?excludedAttributes=groups,meta,name.formatted").json()["Resources"]
    assert all("groups" not in r and "meta" not in r and "formatted" not in r.get("name", {}) for r in slim)

    page = scim.get("Users?startIndex=3&count=4").json()
    assert (page["startIndex"], page["itemsPerPage"], page["totalResults"]) == (3, 4, people)
    ids = [r["id"] for r in scim.get(f"Users?count={people}").json()["Resources"]]
    assert [r["id"] for r in page["Resources"]] == ids[2:6]
    assert scim.get("Users?count=0").json()["Resources"] == []
    scim_error(scim.get("Users?count=many"), 400, "invalidValue")

    # The integration's own service account is never listed.
    assert "integration-okta" not in {r["userName"] for r in scim.get(f"Users?count={people + 5}").json()["Resources"]}

    def list_all():
        response = scim.get("Users?count=200")
        assert response.status_code == 200
        return len(response.json()["Resources"])

    # The token, the client, the count, the page, its memberships, its externalIds.
    with django_assert_max_num_queries(6):
        small = list_all()
    sales = Department.objects.get(code="sales")
    for n in range(40):
        user = User.objects.create(username=f"temp{n}", email=f"temp{n}@example.com")
        Membership.objects.create(user=user, department=sales)
    with django_assert_max_num_queries(6):
        assert list_all() == small + 40


def test_list_parameters_at_their_edges(scim, demo):
    people = User.objects.filter(is_service_account=False).count()
    assert scim.get("Users?startIndex=0&count=1").json()["startIndex"] == 1
    assert scim.get("Users?count=-5").json()["Resources"] == []
    beyond = scim.get(f"Users?startIndex={people + 10}").json()
    assert (beyond["totalResults"], beyond["Resources"]) == (people, [])
    assert scim.query("Users", filter='meta.created gt "2000-01-01T00:00:00Z"').json()["totalResults"] == people
    alice = scim.query("Users", filter=f'id eq "{demo["alice"].pk}"').json()["Resources"]
    assert [r["userName"] for r in alice] == ["alice"]
    assert scim.query("Users", filter='id eq "alice"').json()["totalResults"] == 0

    inactive = scim.post("Users", new_user(userName="frank", externalId="f", active=False))
    assert inactive.status_code == 201 and inactive.json()["active"] is False
    assert not User.objects.get(username="frank").is_active

    names_only = scim.get("Groups?attributes=displayName").json()["Resources"]
    assert names_only and all(set(g) == {"schemas", "id", "displayName"} for g in names_only)
    partial = scim.get(f"Groups/{Department.objects.get(code='dev').pk}?excludedAttributes=members")
    assert "ETag" not in partial and "version" not in partial.json()["meta"]


def test_deactivate_ends_tokens_and_reactivation(scim, demo):
    alice = demo["alice"]
    token = token_issue_for_user(user=alice)["access_token"]
    me = HttpClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200

    # Okta's deactivation: a path-less replace.
    response = scim.patch(f"Users/{alice.pk}", [{"op": "replace", "value": {"active": False}}])
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    alice.refresh_from_db()
    assert not alice.is_active
    assert HttpClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert not Conversation.objects.get(department__code="dev").memberships.filter(user=alice).exists()
    # Kept, with her place in the company: deactivated, not deleted.
    assert Membership.objects.filter(user=alice, department__code="dev").exists()

    # Entra ID's reactivation: a path and a string.
    response = scim.patch(f"Users/{alice.pk}", [{"op": "Replace", "path": "active", "value": "True"}])
    assert response.status_code == 200 and response.json()["active"] is True
    alice.refresh_from_db()
    assert alice.is_active
    assert Conversation.objects.get(department__code="dev").memberships.filter(user=alice).exists()


def test_delete_deactivates_and_keeps_history(scim, demo):
    bob = demo["bob"]
    token = token_issue_for_user(user=bob)["access_token"]
    response = scim.delete(f"Users/{bob.pk}")
    assert response.status_code == 204 and response.content == b""
    bob.refresh_from_db()
    assert not bob.is_active
    assert HttpClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert scim.get(f"Users/{bob.pk}").json()["active"] is False


def test_service_accounts_are_out_of_reach(scim, demo):
    account = User.objects.get(username="integration-okta")
    scim_error(scim.get(f"Users/{account.pk}"), 404)
    scim_error(scim.patch(f"Users/{account.pk}", [{"op": "replace", "value": {"active": False}}]), 404)
    scim_error(scim.delete(f"Users/{account.pk}"), 404)
    account.refresh_from_db()
    assert account.is_active
    # Nor can a service account's username be taken over.
    scim_error(scim.post("Users", new_user(userName="integration-okta", externalId="")), 409, "uniqueness")


BAD_FILTERS = [
    "userName eq", 'userName xx "a"', 'password eq "x"', 'active eq "yes"', '(userName eq "a"', 'emails[type eq "a"',
]


@pytest.mark.parametrize("bad", BAD_FILTERS)
def test_a_bad_filter_is_invalid_filter(scim, bad):
    scim_error(scim.query("Users", filter=bad), 400, "invalidFilter")


# Nested hundreds deep, a filter would exhaust the parser's recursion: each is refused
# like any other bad filter, with a detail that says which bound it passed.
DEEP = 350  # within the filter's length, so that the depth is what refuses it
FILTERS_BEYOND_BOUNDS = [
    ("(" * DEEP + 'userName eq "x"' + ")" * DEEP, "nests deeper"),
    ("not(" * DEEP + 'userName eq "x"' + ")" * DEEP, "nests deeper"),
    ('emails[value eq "x" and ' + "(" * DEEP + 'type eq "work"' + ")" * DEEP + "]", "nests deeper"),
    (" and ".join(["displayName pr"] * 100), "more than"),
    (" or ".join(["(displayName pr and not(displayName pr))"] * 40), "more than"),
    ('userName eq "x" and ' * 500 + 'userName eq "x"', "too long"),
]


@pytest.mark.parametrize("resource", ["Users", "Groups"])
@pytest.mark.parametrize(("bad", "said"), FILTERS_BEYOND_BOUNDS)
def test_a_filter_beyond_its_bounds_is_invalid_filter(scim, resource, bad, said):
    body = scim_error(scim.query(resource, filter=bad), 400, "invalidFilter")
    assert said in body["detail"]


def test_filters_within_the_bounds_still_answer(scim, demo):
    depth = MAX_FILTER_DEPTH - MAX_FILTER_DEPTH % 2  # an even number of nots cancel out
    nested = "(" * depth + 'userName eq "alice"' + ")" * depth
    assert scim.query("Users", filter=nested).json()["totalResults"] == 1
    assert scim.query("Users", filter="not(" * depth + 'userName eq "alice"' + ")" * depth).json()["totalResults"] == 1
    beyond = MAX_FILTER_DEPTH + 1
    scim_error(scim.query("Users", filter="(" * beyond + "userName pr" + ")" * beyond), 400, "invalidFilter")
    names = (["alice", "bob", "carol"] * MAX_FILTER_TERMS)[:MAX_FILTER_TERMS]
    many = " or ".join(f'userName eq "{name}"' for name in names)
    assert scim.query("Users", filter=many).json()["totalResults"] == 3


def test_a_patch_path_beyond_the_bounds_is_invalid_path(scim, demo):
    deep = "emails[" + "(" * DEEP + 'type eq "work"' + ")" * DEEP + "].value"
    operation = {"op": "replace", "path": deep, "value": "x@y.example"}
    body = scim_error(scim.patch(f"Users/{demo['alice'].pk}", [operation]), 400, "invalidPath")
    assert "nests deeper" in body["detail"]


def test_unknown_ids_and_endpoints_are_404(scim):
    for path in ("Users/999999", "Users/not-a-number", "Groups/999999", "Nothing"):
        scim_error(scim.get(path), 404)
    scim_error(scim.delete("Users"), 405)


def test_refused_creates(scim, demo):
    assert scim.post("Users", new_user()).status_code == 201

    def refused(status, scim_type, **fields):
        scim_error(scim.post("Users", new_user(**{"externalId": "other", **fields})), status, scim_type)

    refused(409, "uniqueness", userName="GRACE.HOPPER@example.com")
    refused(409, "uniqueness", userName="other", externalId="00u1okta")
    refused(409, "uniqueness", userName="alice2", **{ENTERPRISE_USER: {"employeeNumber": "E0004"}})
    refused(400, "invalidValue", userName="")
    refused(400, "invalidValue", userName="with space")
    refused(400, "invalidValue", userName="dan", emails=[{"value": "not-an-email"}])
    refused(400, "invalidValue", userName="dan", **{ENTERPRISE_USER: {"department": "Atlantis"}})
    refused(400, "invalidSyntax", userName="dan", schemas=[GROUP])
    broken = scim.http.post("/scim/v2/Users", "{not json", content_type=SCIM, HTTP_AUTHORIZATION=f"Bearer {scim.token}")
    scim_error(broken, 400, "invalidSyntax")
    assert not User.objects.filter(username="dan").exists()


def test_refused_patches_and_versions(scim, demo):
    alice = f"Users/{demo['alice'].pk}"
    no_match = 'emails[value eq "nope@example.com" or type eq "home"].value'
    for operation, scim_type in [
        ({"op": "remove"}, "noTarget"),
        ({"op": "replace", "path": "id", "value": "7"}, "mutability"),
        ({"op": "replace", "path": "shoeSize", "value": 9}, "invalidPath"),
        ({"op": "move", "path": "title"}, "invalidSyntax"),
        ({"op": "replace", "path": "active", "value": "maybe"}, "invalidValue"),
        ({"op": "replace", "path": no_match, "value": "x@y.example"}, "noTarget"),
    ]:
        scim_error(scim.patch(alice, [operation]), 400, scim_type)

    # A stale If-Match is refused, the current one accepted.
    current = scim.get(alice)
    title = [{"op": "replace", "path": "title", "value": "CTO"}]
    scim_error(scim.patch(alice, title, HTTP_IF_MATCH='W/"stale"'), 412, "invalidVers")
    assert scim.patch(alice, title, HTTP_IF_MATCH=current["ETag"]).status_code == 200


def test_who_may_call(db, demo):
    unauthenticated = Scim(None).get("Users")
    scim_error(unauthenticated, 401)
    assert unauthenticated["WWW-Authenticate"].startswith("Bearer")
    scim_error(Scim("not-a-token").get("Users"), 401)

    notify_only = Scim(client_token(HttpClient(), scopes=["notify"], name="Payroll"))
    scim_error(notify_only.get("Users"), 403)
    scim_error(notify_only.post("Users", new_user(userName="sneaky")), 403)
    assert not User.objects.filter(username="sneaky").exists()

    person = Scim(token_issue_for_user(user=demo["admin"])["access_token"])
    scim_error(person.get("Users"), 403)


def test_revoked_client_is_refused(scim, demo):
    from integrations.models import Client

    client = Client.objects.get(application__name="Okta")
    integration_services.client_revoke(client_id=client.application.client_id)
    scim_error(scim.get("Users"), 401)


# --- Groups ------------------------------------------------------------------------------


def members_of(department: Department) -> set[int]:
    return set(Membership.objects.filter(department=department).values_list("user_id", flat=True))


def test_groups_are_departments_and_members_follow(scim, demo):
    alice, bob, carol = demo["alice"], demo["bob"], demo["carol"]
    created = scim.post(
        "Groups",
        {"schemas": [GROUP], "displayName": "Research Lab", "externalId": "grp-1", "members": [{"value": str(carol.pk)}]},
    )
    assert created.status_code == 201, created.content
    group = created.json()
    department = Department.objects.get(pk=int(group["id"]))
    root = Department.objects.get_root_nodes().first()
    assert Department.objects.get_parent(department) == root and department.code == "research-lab"
    assert created["Location"] == group["meta"]["location"]
    assert group["members"] == [
        {
            "value": str(carol.pk),
            "$ref": f"http://testserver/scim/v2/Users/{carol.pk}",
            "display": carol.name,
            "type": "User",
        }
    ]
    # Carol's primary department stays Sales; the lab is an extra membership.
    assert Membership.objects.get(user=carol, department=department).is_primary is False
    lab_chat = Conversation.objects.get(department=department)
    assert set(lab_chat.memberships.values_list("user_id", flat=True)) == {carol.pk}

    found = scim.query("Groups", filter='displayName eq "research lab"').json()
    assert [g["id"] for g in found["Resources"]] == [group["id"]]
    assert scim.query("Groups", filter='externalId eq "grp-1"').json()["totalResults"] == 1
    carols = scim.query("Groups", filter=f'members eq "{carol.pk}"', excludedAttributes="members").json()["Resources"]
    assert {g["displayName"] for g in carols} == {"Sales", "Research Lab"}
    assert all("members" not in g for g in carols)
    assert "members" not in scim.get(f"Groups/{group['id']}?excludedAttributes=members").json()

    # Okta's membership changes.
    response = scim.patch(
        f"Groups/{group['id']}",
        [{"op": "add", "path": "members", "value": [{"value": str(alice.pk), "display": "Alice"}, {"value": str(bob.pk)}]}],
    )
    assert response.status_code == 200, response.content
    assert {m["value"] for m in response.json()["members"]} == {str(alice.pk), str(bob.pk), str(carol.pk)}
    assert members_of(department) == {alice.pk, bob.pk, carol.pk}
    assert set(lab_chat.memberships.values_list("user_id", flat=True)) == {alice.pk, bob.pk, carol.pk}

    response = scim.patch(f"Groups/{group['id']}", [{"op": "remove", "path": f'members[value eq "{alice.pk}"]'}])
    assert response.status_code == 200
    assert not Membership.objects.filter(department=department, user=alice).exists()
    assert Membership.objects.get(user=alice, department__code="dev").is_primary  # untouched
    assert not lab_chat.memberships.filter(user=alice).exists()

    # Entra ID's: members to remove named in the value, a rename in the same request.
    response = scim.patch(
        f"Groups/{group['id']}",
        [
            {"op": "Remove", "path": "members", "value": [{"value": str(bob.pk)}]},
            {"op": "Replace", "path": "displayName", "value": "Research"},
        ],
    )
    assert response.status_code == 200, response.content
    department.refresh_from_db()
    assert department.name == "Research"
    assert members_of(department) == {carol.pk}
    lab_chat.refresh_from_db()
    assert lab_chat.title == "Research"

    # PUT: a new name and exactly these members.
    response = scim.put(
        f"Groups/{group['id']}", {"schemas": [GROUP], "displayName": "Research", "members": [{"value": str(bob.pk)}]}
    )
    assert response.status_code == 200
    assert members_of(department) == {bob.pk}
    assert response.json().get("externalId") is None  # left out, so cleared

    scim_error(scim.post("Groups", {"schemas": [GROUP], "displayName": "SALES"}), 409, "uniqueness")
    service_account = User.objects.get(username="integration-okta")
    for member_id in ("999999", str(service_account.pk)):
        adding = [{"op": "add", "path": "members", "value": [{"value": member_id}]}]
        scim_error(scim.patch(f"Groups/{group['id']}", adding), 400, "invalidValue")

    # A department with sub-departments, and the company's root, stay.
    child = Department.objects.add_child(department, {"name": "Lab 2", "code": "lab-2"})
    scim_error(scim.delete(f"Groups/{group['id']}"), 409)
    scim_error(scim.delete(f"Groups/{root.pk}"), 409)
    assert scim.delete(f"Groups/{child.pk}").status_code == 204
    assert scim.delete(f"Groups/{group['id']}").status_code == 204
    assert not Department.objects.filter(pk=department.pk).exists()
    assert User.objects.filter(pk=bob.pk, is_active=True).exists()
    scim_error(scim.get(f"Groups/{group['id']}"), 404)


def test_user_groups_attribute_and_group_filter(scim, demo):
    dev = Department.objects.get(code="dev")
    found = scim.query("Users", filter=f'groups eq "{dev.pk}"', attributes="userName").json()
    assert {r["userName"] for r in found["Resources"]} == {"dev_lead", "alice", "bob"}
    listed = scim.query("Groups", filter='displayName eq "Development"').json()["Resources"][0]
    assert {m["display"] for m in listed["members"]} == {"Diego Alvarez", "Alice Wang", "Bob Martin"}


# --- a live server: a real process, a real socket, requests over HTTP -----------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_live_server_provisioning_closes_the_deactivated_users_socket(demo, web_worker, settings):
    import requests
    import websockets
    from django.conf import global_settings

    # The server checks client secrets with its own hashers.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    client, secret = integration_services.client_register(name="Entra ID", scopes=["scim"])
    token = requests.post(
        f"{web_worker.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(client.application.client_id, secret),
        timeout=20,
    ).json()["access_token"]
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": SCIM, "Accept": SCIM})
    base = f"{web_worker.url}/scim/v2"

    created = session.post(f"{base}/Users", json=new_user(userName="ada", externalId="entra-ada"), timeout=20)
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"] == SCIM
    user_id = created.json()["id"]
    found = session.get(f"{base}/Users", params={"filter": 'userName eq "ADA"'}, timeout=20).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user_id

    ada = User.objects.get(pk=int(user_id))
    user_token = token_issue_for_user(user=ada)["access_token"]

    async def socket_closes_when_deactivated() -> int:
        bearer = {"Authorization": f"Bearer {user_token}"}
        async with websockets.connect(web_worker.ws_url, additional_headers=bearer) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello" and hello["user"]["username"] == "ada"
            response = await asyncio.to_thread(
                session.patch,
                f"{base}/Users/{user_id}",
                json={"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
                timeout=20,
            )
            assert response.status_code == 200, response.text
            assert response.json()["active"] is False
            async with asyncio.timeout(10):
                while True:
                    try:
                        await ws.recv()
                    except websockets.ConnectionClosed as closed:
                        return closed.rcvd.code if closed.rcvd else 0

    assert asyncio.run(socket_closes_when_deactivated()) == 4401
    me = requests.get(f"{web_worker.url}/api/v1/me/", headers={"Authorization": f"Bearer {user_token}"}, timeout=20)
    assert me.status_code == 401
    error = requests.get(f"{base}/Users", timeout=20)
    assert error.status_code == 401 and error.json()["schemas"] == [ERROR]


def test_text_that_cannot_be_stored_is_invalid_syntax(scim):
    """A lone UTF-16 surrogate, which JSON's escapes allow, is refused before anything is
    written, in SCIM's error format."""
    raw = json.dumps(new_user(userName="grace\ud800@example.com"))
    response = scim.http.post("/scim/v2/Users", data=raw, content_type=SCIM, HTTP_AUTHORIZATION=f"Bearer {scim.token}")
    scim_error(response, 400, "invalidSyntax")
    assert scim.query("Users", filter='userName sw "grace"').json()["totalResults"] == 0
