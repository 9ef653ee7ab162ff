"""Who may announce (as the pages ask it), reminders, expiry, the card's body."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps_announcements import selectors, services
from apps_announcements.models import Announcement, Recipient
from core.errors import ApplicationError
from messaging.models import ConversationMember, Message

pytestmark = pytest.mark.django_db


def reminders(announcement):
    return Message.objects.filter(app="announcement", body__announcement=announcement.pk, body__reminder=True)


def reminded(announcement) -> list[str]:
    """Who got each reminder, in the order they were sent (one direct chat each)."""
    return sorted(
        ConversationMember.objects.filter(conversation__messages__in=reminders(announcement))
        .exclude(user__username="announcements")
        .values_list("user__username", flat=True)
    )


def test_may_announce_matches_what_publishing_allows(demo):
    assert {u for u, user in demo.items() if selectors.may_announce(user)} == {
        "erin", "hr_lead", "president", "secretary", "dev_lead", "sales_lead", "mkt_lead",
    }
    assert selectors.may_announce_to_everyone(demo["erin"]) and not selectors.may_announce_to_everyone(demo["dev_lead"])
    assert list(selectors.departments_user_may_address(demo["dev_lead"]).values_list("code", flat=True)) == ["dev"]
    assert selectors.departments_user_may_address(demo["alice"]).count() == 0
    assert selectors.departments_user_may_address(demo["erin"]).count() == 6  # the company and its five departments
    assert not selectors.may_announce(services.service_account())


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    """Ask for a reminder run and let its Celery batches run (eagerly, in tests)."""

    def run(user, announcement_id, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.announcement_remind_unconfirmed(user=user, announcement_id=announcement_id, **kwargs)

    return run


def test_remind_the_ones_who_have_not_confirmed(demo, announce, remind):
    announcement = announce(demo["erin"], {"departments": ["hr", "dev"]}, requires_confirmation=True)
    services.announcement_confirm(user=demo["bob"], announcement_id=announcement.pk)
    services.announcement_mark_read(user=demo["alice"], announcement_id=announcement.pk)

    count = remind(demo["erin"], announcement.pk)

    # alice read it but did not confirm; the author is not reminded of her own announcement.
    assert count == 3
    sent = reminders(announcement)
    assert reminded(announcement) == ["alice", "dev_lead", "hr_lead"]
    assert {m.sender.username for m in sent} == {"announcements"}
    assert sent.first().body["title"] == announcement.title and sent.first().body["reminder"] is True

    # Each run is a new set of messages; the same run twice sends nothing more.
    assert remind(demo["erin"], announcement.pk, run_id="r1") == 3
    assert remind(demo["erin"], announcement.pk, run_id="r1") == 3
    assert reminders(announcement).count() == 6


def test_remind_the_ones_who_have_not_read_when_no_confirmation_is_asked(demo, announce, remind):
    announcement = announce(demo["dev_lead"], {"departments": ["dev"]})
    services.announcement_mark_read(user=demo["alice"], announcement_id=announcement.pk)
    assert remind(demo["dev_lead"], announcement.pk) == 1
    assert reminded(announcement) == ["bob"]


def test_reminders_go_out_in_batches_after_the_request(demo, announce, remind, settings, django_capture_on_commit_callbacks):
    settings.ANNOUNCEMENT_BATCH_SIZE = 2
    announcement = announce(demo["erin"], {"everyone": True}, requires_confirmation=True)
    before = reminders(announcement).count()
    # Nothing is sent inside the request: the run starts when the transaction commits.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        count = services.announcement_remind_unconfirmed(user=demo["erin"], announcement_id=announcement.pk)
    assert reminders(announcement).count() == before and len(callbacks) == 1
    callbacks[0]()
    assert reminders(announcement).count() == count > 2
    assert len(set(reminded(announcement))) == count


def test_only_the_author_and_administrators_remind(demo, announce, remind):
    announcement = announce(demo["erin"], {"departments": ["dev"]})
    for user in (demo["alice"], demo["hr_lead"]):
        with pytest.raises(ApplicationError) as refused:
            services.announcement_remind_unconfirmed(user=user, announcement_id=announcement.pk)
        assert refused.value.code == "not_permitted"
    assert remind(demo["admin"], announcement.pk) == 3
    with pytest.raises(ApplicationError) as missing:
        services.announcement_remind_unconfirmed(user=demo["erin"], announcement_id=announcement.pk + 1)
    assert missing.value.code == "not_found"


def test_no_reminders_for_an_expired_announcement(demo, announce):
    announcement = announce(demo["erin"], {"departments": ["dev"]}, expires_at=timezone.now() + timedelta(hours=1))
    Announcement.objects.filter(pk=announcement.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ApplicationError) as refused:
        services.announcement_remind_unconfirmed(user=demo["erin"], announcement_id=announcement.pk)
    assert refused.value.code == "conflict" and not reminders(announcement).exists()


def test_reminders_skip_people_it_has_not_reached_yet(demo, announce):
    announcement = announce(demo["erin"], {"departments": ["dev"]})
    Recipient.objects.filter(announcement=announcement, user=demo["bob"]).update(delivered_at=None)
    assert services.announcement_remind_unconfirmed(user=demo["erin"], announcement_id=announcement.pk) == 2


def test_expiry_must_be_in_the_future(demo):
    with pytest.raises(ApplicationError) as refused:
        services.announcement_publish(
            author=demo["erin"], title="t", body="b", audience={"everyone": True}, client_id=uuid.uuid4().hex,
            expires_at=timezone.now() - timedelta(minutes=5),
        )
    assert refused.value.extra == {"field": "expires_at"}


def test_pinned_for_user_leaves_out_expired_and_unpinned(demo, announce):
    pinned = announce(demo["erin"], {"departments": ["dev"]}, title="Pinned", pinned=True)
    announce(demo["erin"], {"departments": ["dev"]}, title="Not pinned")
    gone = announce(demo["erin"], {"departments": ["dev"]}, title="Gone", pinned=True,
                    expires_at=timezone.now() + timedelta(hours=1))
    Announcement.objects.filter(pk=gone.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert list(selectors.pinned_for_user(user=demo["alice"])) == [pinned]
    assert list(selectors.pinned_for_user(user=demo["carol"])) == []


def test_receipts_export_rows(demo, announce):
    announcement = announce(demo["erin"], {"departments": ["dev"]}, requires_confirmation=True)
    services.announcement_confirm(user=demo["bob"], announcement_id=announcement.pk)
    _announcement, rows = selectors.announcement_receipts_export(user=demo["erin"], announcement_id=announcement.pk)
    assert [row[:3] for row in rows] == [
        ("alice", "Alice Wang", "Development"), ("bob", "Bob Martin", "Development"),
        ("dev_lead", "Diego Alvarez", "Development"),
    ]
    bob = rows[1]
    assert bob[3] is not None and bob[4] is not None and bob[5] is not None
    assert rows[0][4] is None and rows[0][5] is None
