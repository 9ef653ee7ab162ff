"""The push API (docs/api.md, Push notifications): the key, subscribing, listing and
removing one's own devices, and what is refused."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from push.keys import public_key
from push.models import PushSubscription

from .conftest import Browser, b64url

pytestmark = pytest.mark.django_db

URL = "/api/v1/push/subscriptions/"


def test_the_public_key_is_the_vapid_keys_uncompressed_point(demo, api_for):
    answer = api_for(demo["alice"]).get("/api/v1/push/key/")
    assert answer.status_code == 200 and answer.json() == {"public_key": public_key()}
    raw = __import__("base64").urlsafe_b64decode(public_key() + "==")
    assert len(raw) == 65 and raw[0] == 4


def test_anonymous_requests_are_refused(db):
    assert APIClient().get("/api/v1/push/key/").status_code == 401
    assert APIClient().post(URL, {}, format="json").json()["code"] == "unauthenticated"


def test_subscribing_is_idempotent_and_lists_only_mine(demo, api_for, push_service):
    alice, bob = api_for(demo["alice"]), api_for(demo["bob"])
    browser = Browser(push_service)
    first = alice.post(URL, {**browser.subscription(), "label": "Work laptop"}, format="json", HTTP_USER_AGENT="x")
    assert first.status_code == 201
    assert first.json()["label"] == "Work laptop" and first.json()["endpoint"] == browser.endpoint
    again = alice.post(URL, browser.subscription(), format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    bob.post(URL, Browser(push_service).subscription(), format="json")
    assert [d["endpoint"] for d in alice.get(URL).json()] == [browser.endpoint]
    assert len(bob.get(URL).json()) == 1


def test_the_same_browser_subscribed_by_someone_else_moves_to_them(demo, api_for, push_service):
    browser = Browser(push_service)
    api_for(demo["alice"]).post(URL, browser.subscription(), format="json")
    moved = api_for(demo["bob"]).post(URL, browser.subscription(), format="json")
    assert moved.status_code == 200
    assert PushSubscription.objects.get(endpoint=browser.endpoint).user == demo["bob"]
    assert api_for(demo["alice"]).get(URL).json() == []


def test_a_label_is_guessed_from_the_user_agent(demo, api_for, push_service):
    ua = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
    answer = api_for(demo["alice"]).post(URL, Browser(push_service).subscription(), format="json", HTTP_USER_AGENT=ua)
    assert answer.json()["label"] == "Chrome on Android"


def test_one_cannot_see_or_remove_anothers_device(demo, api_for, push_service):
    mine = api_for(demo["alice"]).post(URL, Browser(push_service).subscription(), format="json").json()
    bob = api_for(demo["bob"])
    refused = bob.delete(f"{URL}{mine['id']}/")
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert bob.get(URL).json() == []
    assert PushSubscription.objects.filter(pk=mine["id"]).exists()
    assert api_for(demo["alice"]).delete(f"{URL}{mine['id']}/").status_code == 204
    assert not PushSubscription.objects.filter(pk=mine["id"]).exists()


def test_beyond_the_limit_the_oldest_device_is_dropped(demo, api_for, push_service, settings):
    settings.PUSH_MAX_SUBSCRIPTIONS = 2
    alice = api_for(demo["alice"])
    browsers = [Browser(push_service) for _ in range(3)]
    for browser in browsers:
        assert alice.post(URL, browser.subscription(), format="json").status_code == 201
    assert [d["endpoint"] for d in alice.get(URL).json()] == [b.endpoint for b in browsers[1:]]


def bad(push_service, **change) -> dict:
    subscription = Browser(push_service).subscription()
    keys = change.pop("keys", {})
    subscription["keys"].update(keys)
    subscription.update(change)
    return subscription


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"endpoint": None}, "invalid_field", "endpoint"),
        ({"endpoint": "not a url"}, "invalid_field", "endpoint"),
        ({"endpoint": "http://push.example.com/x"}, "invalid_field", "endpoint"),
        ({"endpoint": "ftp://fcm.googleapis.com/x"}, "invalid_field", "endpoint"),
        ({"endpoint": "https://user:pw@fcm.googleapis.com/x"}, "invalid_field", "endpoint"),
        ({"endpoint": "https://fcm.googleapis.com/" + "x" * 1000}, "invalid_field", "endpoint"),
        ({"endpoint": "https://intranet.corp.example/hook"}, "push_service_not_allowed", "endpoint"),
        ({"endpoint": "https://10.0.0.5/fcm.googleapis.com"}, "push_service_not_allowed", "endpoint"),
        ({"keys": None}, "invalid_field", "keys"),
        ({"keys": {"p256dh": "%%%"}}, "invalid_field", "keys.p256dh"),
        ({"keys": {"p256dh": b64url(b"\x04" + b"\x01" * 64)}}, "invalid_field", "keys.p256dh"),  # not on the curve
        ({"keys": {"auth": b64url(b"short")}}, "invalid_field", "keys.auth"),
        ({"keys": {"auth": None}}, "invalid_field", "keys.auth"),
        ({"label": "x" * 151}, "invalid_field", "label"),
        ({"label": 5}, "invalid_field", "label"),
    ],
)
def test_what_is_not_a_browsers_subscription_is_refused(demo, api_for, push_service, change, code, field):
    if change.get("keys", 1) is None:
        subscription = Browser(push_service).subscription()
        subscription["keys"] = None
    else:
        subscription = bad(push_service, **change)
    answer = api_for(demo["alice"]).post(URL, subscription, format="json")
    assert answer.status_code == 400, answer.content
    assert (answer.json()["code"], answer.json()["field"]) == (code, field)
    assert "detail" in answer.json()
    assert not PushSubscription.objects.exists()


def test_plain_http_on_loopback_only_where_the_setting_allows_it(demo, api_for, push_service, settings):
    settings.PUSH_ALLOW_HTTP_LOOPBACK = False
    answer = api_for(demo["alice"]).post(URL, Browser(push_service).subscription(), format="json")
    assert answer.status_code == 400 and answer.json()["field"] == "endpoint"


def test_the_known_push_services_are_allowed(demo, api_for, push_service):
    alice = api_for(demo["alice"])
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
        "https://web.push.apple.com/QGZ8",
    ):
        assert alice.post(URL, bad(push_service, endpoint=endpoint), format="json").status_code == 201, endpoint


def test_a_body_that_is_not_an_object_is_refused(demo, api_for):
    answer = api_for(demo["alice"]).post(URL, [1, 2], format="json")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid"


def test_a_read_only_token_lists_but_cannot_subscribe(demo, push_service):
    from oauth2_provider.models import AccessToken

    from accounts.services import token_issue_for_user

    token = token_issue_for_user(user=demo["alice"])["access_token"]
    AccessToken.objects.filter(user=demo["alice"]).update(scope="read")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(URL).status_code == 200
    refused = client.post(URL, Browser(push_service).subscription(), format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
