"""The settings page's Notifications section, the hide-previews choice, the service worker's
handlers, and the VAPID key's checks."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from push import checks, keys
from push.models import PushSubscription

from .conftest import Browser

pytestmark = pytest.mark.django_db


def test_the_settings_page_lists_my_devices_and_offers_the_button(demo, client, api_for, push_service):
    api_for(demo["alice"]).post("/api/v1/push/subscriptions/", {**Browser(push_service).subscription(), "label": "My phone"}, format="json")
    api_for(demo["bob"]).post("/api/v1/push/subscriptions/", {**Browser(push_service).subscription(), "label": "Bob's tablet"}, format="json")
    client.force_login(demo["alice"])
    page = client.get("/accounts/settings/").content.decode()
    assert "My phone" in page and "Bob's tablet" not in page
    assert 'data-testid="push-enable"' in page and "push/notifications.js" in page
    assert 'name="hide_notification_previews"' in page


def test_the_hide_previews_choice_is_saved(demo, client):
    client.force_login(demo["alice"])
    client.post("/accounts/settings/", {"language": "", "hide_notification_previews": "on"})
    demo["alice"].refresh_from_db()
    assert demo["alice"].hide_notification_previews is True
    client.post("/accounts/settings/", {"language": ""})
    demo["alice"].refresh_from_db()
    assert demo["alice"].hide_notification_previews is False


def test_remove_deletes_my_device_and_no_one_elses(demo, client, api_for, push_service):
    mine = api_for(demo["alice"]).post("/api/v1/push/subscriptions/", Browser(push_service).subscription(), format="json").json()
    theirs = api_for(demo["bob"]).post("/api/v1/push/subscriptions/", Browser(push_service).subscription(), format="json").json()
    client.force_login(demo["alice"])
    assert client.post(f"/push/devices/{theirs['id']}/remove/").status_code == 404
    assert client.get(f"/push/devices/{mine['id']}/remove/").status_code == 405
    assert client.post(f"/push/devices/{mine['id']}/remove/").status_code == 302
    assert list(PushSubscription.objects.values_list("pk", flat=True)) == [theirs["id"]]


def test_the_service_worker_shows_pushes_and_opens_their_page(client):
    script = client.get("/sw.js").content.decode()
    assert "addEventListener('push'" in script and "showNotification(" in script
    assert "addEventListener('notificationclick'" in script and "openWindow(" in script and ".navigate(" in script
    assert '/static/icons/icon-192.png' in script


def test_the_key_may_be_pem_or_raw_base64url(settings):
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    settings.VAPID_PRIVATE_KEY = __import__("base64").urlsafe_b64encode(raw).rstrip(b"=").decode()
    from_raw = keys.public_key()
    from cryptography.hazmat.primitives import serialization

    settings.VAPID_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert keys.public_key() == from_raw
    assert checks.vapid_key_check(None) == []


def test_the_checks_refuse_a_missing_or_wrong_key_and_subject(settings):
    settings.VAPID_PRIVATE_KEY = ""
    assert [e.id for e in checks.vapid_key_check(None)] == ["push.E001"]
    settings.VAPID_PRIVATE_KEY = "not-a-key"
    assert [e.id for e in checks.vapid_key_check(None)] == ["push.E002"]
    settings.VAPID_PRIVATE_KEY = ""
    settings.VAPID_SUBJECT = "admin@example.com"
    assert [e.id for e in checks.vapid_key_check(None)] == ["push.E001", "push.E003"]


@pytest.mark.parametrize(
    ("subject", "warned"),
    [
        ("mailto:admin@localhost", True),
        ("https://chat.local", True),
        ("mailto:it@company.com", False),
        ("https://chat.company.com", False),
    ],
)
def test_deploy_check_warns_of_a_subject_no_push_service_can_reach(settings, subject, warned):
    settings.VAPID_SUBJECT = subject
    assert bool(checks.vapid_subject_deploy_check(None)) is warned


def test_make_keys_makes_a_p256_key_where_the_settings_read_it(settings, tmp_path):
    settings.SECRET_KEY_FILE = settings.OIDC_RSA_PRIVATE_KEY_FILE = None
    settings.VAPID_PRIVATE_KEY_FILE = tmp_path / "vapid.pem"
    call_command("make_keys", verbosity=0)
    settings.VAPID_PRIVATE_KEY = settings.VAPID_PRIVATE_KEY_FILE.read_text()
    assert keys.vapid().private_key.curve.name == "secp256r1"
