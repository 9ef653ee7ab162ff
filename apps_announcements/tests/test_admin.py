"""The admin shows announcements with their receipts; it neither publishes nor edits them."""

from __future__ import annotations

import pytest

from apps_announcements import services
from apps_announcements.models import Announcement

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(demo, client):
    client.force_login(demo["admin"])
    return client


def test_announcement_admin_shows_receipts_read_only(admin_client, demo, announce):
    announcement = announce(demo["erin"], {"departments": ["dev"]}, requires_confirmation=True, pinned=True)
    services.announcement_confirm(user=demo["bob"], announcement_id=announcement.pk)

    listing = admin_client.get("/admin/apps_announcements/announcement/")
    assert listing.status_code == 200 and "Office closed on Friday" in listing.content.decode()

    page = admin_client.get(f"/admin/apps_announcements/announcement/{announcement.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Receipts" in html and "Bob Martin" in html and "Alice Wang" in html
    # Receipts are shown, never edited: no inputs for them, no add row, no delete boxes.
    assert 'name="recipients-0-read_at"' not in html and 'name="recipients-0-DELETE"' not in html
    assert 'name="recipients-MAX_NUM_FORMS" value="0"' in html
    assert admin_client.get("/admin/apps_announcements/announcement/add/").status_code == 403


def test_admin_may_unpin_but_not_rewrite(admin_client, demo, announce):
    announcement = announce(demo["erin"], {"departments": ["dev"]}, pinned=True)
    url = f"/admin/apps_announcements/announcement/{announcement.pk}/change/"
    form = {
        "title": "Rewritten", "body": "Rewritten", "expires_at_0": "", "expires_at_1": "",
        "recipients-TOTAL_FORMS": "3", "recipients-INITIAL_FORMS": "3", "recipients-MIN_NUM_FORMS": "0",
        "recipients-MAX_NUM_FORMS": "1000",
    }
    for i, recipient in enumerate(announcement.recipients.order_by("user__username")):
        form[f"recipients-{i}-id"] = str(recipient.pk)
        form[f"recipients-{i}-announcement"] = str(announcement.pk)
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    announcement.refresh_from_db()
    assert not announcement.pinned and announcement.title == "Office closed on Friday"
    assert Announcement.objects.count() == 1
    assert admin_client.post(f"/admin/apps_announcements/announcement/{announcement.pk}/delete/").status_code == 403
