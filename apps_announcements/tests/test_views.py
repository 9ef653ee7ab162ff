"""The announcement pages: list, writing one, the page of one, stats, reminders, CSV."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from apps_announcements import services
from apps_announcements.models import Announcement, Recipient
from messaging.models import Message

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps_announcements.tests.urls")]


def post(client, django_capture_on_commit_callbacks, url, data=None, follow=True):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url, data or {}, follow=follow)


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_pages_need_a_sign_in(client):
    for url in ("/announcements/", "/announcements/new/", "/announcements/1/", "/announcements/1/stats/",
                "/announcements/1/stats.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


def test_list_received_and_written(client, demo, announce):
    to_dev = announce(demo["erin"], {"departments": ["dev"]}, title="Dev: new laptops", requires_confirmation=True)
    to_all = announce(demo["president"], title="All hands on Monday", pinned=True)
    services.announcement_confirm(user=demo["alice"], announcement_id=to_dev.pk)

    client.force_login(demo["alice"])
    response = client.get("/announcements/")
    assert response.status_code == 200 and response.context["box"] == "received"
    assert [a.pk for a in response.context["page"]] == [to_all.pk, to_dev.pk]
    html = response.content.decode()
    assert "All hands on Monday" in html and "Helen Zhou" in html and "Pinned" in html and "Confirmed" in html
    assert f'data-announcement="{to_all.pk}" data-read="false"' in html
    assert f'data-announcement="{to_dev.pk}" data-read="true"' in html
    # alice may not announce: no button and no "written" tab.
    assert 'data-testid="announcement-new"' not in html and 'data-testid="announcement-tab-written"' not in html

    client.force_login(demo["erin"])
    html = client.get("/announcements/").content.decode()
    assert 'data-testid="announcement-new"' in html and 'data-testid="announcement-tab-written"' in html
    written = client.get("/announcements/?box=written")
    assert [a.pk for a in written.context["page"]] == [to_dev.pk]
    assert "Read by 1 of 3" in written.content.decode() and "1 confirmed" in written.content.decode()
    assert client.get("/announcements/?box=nonsense").context["box"] == "received"


def test_the_lists_do_not_query_per_row(client, demo, announce):
    def queries(box: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/announcements/?box={box}").status_code == 200
        return len(captured)

    announce(demo["erin"], {"departments": ["dev", "hr"]})
    client.force_login(demo["erin"])
    one = {box: queries(box) for box in ("received", "written")}
    for n in range(5):
        announce(demo["erin"], {"departments": ["dev", "hr"]}, title=f"More {n}", requires_confirmation=True)
    assert {box: queries(box) for box in ("received", "written")} == one


def test_the_form_offers_what_the_author_may_address(client, demo):
    client.force_login(demo["erin"])
    html = client.get("/announcements/new/").content.decode()
    assert 'value="everyone"' in html and 'name="client_id"' in html
    assert re.findall(r'<option value="([\w-]+)"', html) == ["company", "dev", "hr", "marketing", "office", "sales"]

    client.force_login(demo["dev_lead"])
    html = client.get("/announcements/new/").content.decode()
    assert 'value="everyone"' not in html
    assert re.findall(r'<option value="([\w-]+)"', html) == ["dev"]

    client.force_login(demo["alice"])
    response = client.get("/announcements/new/", follow=True)
    assert response.redirect_chain == [("/announcements/", 302)]
    assert "Only HR" in flashes(response)[0]


def test_publishing_from_the_form(client, demo, django_capture_on_commit_callbacks):
    client.force_login(demo["dev_lead"])
    client_id = uuid.uuid4().hex
    form = {
        "client_id": client_id, "title": "Sprint review", "body": "Friday at *three*.", "audience": "departments",
        "departments": ["dev"], "pinned": "1", "requires_confirmation": "1",
        "expires_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = post(client, django_capture_on_commit_callbacks, "/announcements/new/", form)
    announcement = Announcement.objects.get()
    assert response.redirect_chain == [(f"/announcements/{announcement.pk}/", 302)]
    assert flashes(response) == ["Your announcement is on its way."]
    assert announcement.audience == {"departments": ["dev"]} and announcement.pinned and announcement.requires_confirmation
    assert announcement.expires_at > timezone.now() + timedelta(days=1)
    assert announcement.body_html == "<p>Friday at <em>three</em>.</p>"
    assert Message.objects.filter(app="announcement").count() == 3

    # The same form sent twice publishes once.
    again = post(client, django_capture_on_commit_callbacks, "/announcements/new/", form)
    assert Announcement.objects.count() == 1 and flashes(again) == ["This announcement had already been published."]


@pytest.mark.parametrize(
    "user, changes, status, field, message",
    [
        ("dev_lead", {"departments": ["sales"]}, 403, None, "You may only announce to departments you manage."),
        ("dev_lead", {"audience": "everyone"}, 403, None, "You may not announce to the whole company."),
        ("erin", {"departments": []}, 400, "audience", "Choose at least one department."),
        ("erin", {"title": "  "}, 400, "title", "A title of 1 to 200 characters is needed."),
        ("erin", {"expires_at": "2001-01-01T10:00"}, 400, "expires_at", "The expiry must be in the future."),
    ],
)
def test_the_form_shows_what_is_wrong(client, demo, django_capture_on_commit_callbacks, user, changes, status, field, message):
    client.force_login(demo[user])
    form = {"client_id": uuid.uuid4().hex, "title": "T", "body": "B", "audience": "departments", "departments": ["dev"]}
    form.update(changes)
    response = post(client, django_capture_on_commit_callbacks, "/announcements/new/", form, follow=False)
    assert response.status_code == status
    assert flashes(response) == [message]
    html = response.content.decode()
    if field:
        assert response.context["errors"] == {field: message} and 'aria-invalid="true"' in html
    # What was typed is kept, and the same client_id is sent again.
    assert f'value="{form["client_id"]}"' in html and not Announcement.objects.exists()


def test_opening_the_page_marks_it_read_and_confirm(client, demo, announce, django_capture_on_commit_callbacks):
    announcement = announce(demo["erin"], {"departments": ["dev"]}, requires_confirmation=True,
                            body="Read the [policy](https://example.com/p) <script>alert(1)</script>")
    client.force_login(demo["alice"])
    response = client.get(f"/announcements/{announcement.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="https://example.com/p"' in html and "<script>alert" not in html
    assert 'data-testid="announcement-confirm"' in html and 'data-confirmed="false"' in html
    assert 'data-testid="announcement-stats-link"' not in html
    assert "To: Development" in html
    receipt = Recipient.objects.get(announcement=announcement, user=demo["alice"])
    assert receipt.read_at is not None and receipt.confirmed_at is None

    confirmed = post(client, django_capture_on_commit_callbacks, f"/announcements/{announcement.pk}/confirm/")
    assert confirmed.redirect_chain == [(f"/announcements/{announcement.pk}/", 302)]
    assert flashes(confirmed) == ["Thank you: you confirmed that you have read this announcement."]
    html = confirmed.content.decode()
    assert 'data-testid="announcement-confirmed"' in html and 'data-confirmed="true"' in html
    assert 'data-testid="announcement-confirm"' not in html

    assert client.get(f"/announcements/{announcement.pk}/confirm/").status_code == 405


def test_the_page_for_outsiders_authors_and_administrators(client, demo, announce):
    announcement = announce(demo["erin"], {"departments": ["dev"]})
    client.force_login(demo["carol"])
    response = client.get(f"/announcements/{announcement.pk}/", follow=True)
    assert response.redirect_chain == [("/announcements/", 302)] and flashes(response) == ["No such announcement."]

    for user in ("erin", "admin"):
        client.force_login(demo[user])
        html = client.get(f"/announcements/{announcement.pk}/").content.decode()
        assert 'data-testid="announcement-stats-link"' in html and 'data-testid="announcement-confirm"' not in html
    # Neither is in the audience: nothing was marked read.
    assert not Recipient.objects.filter(read_at__isnull=False).exists()


def test_stats_page_numbers_chart_and_lists(client, demo, announce):
    announcement = announce(demo["erin"], {"departments": ["hr", "dev"]}, requires_confirmation=True)
    services.announcement_confirm(user=demo["bob"], announcement_id=announcement.pk)
    services.announcement_mark_read(user=demo["alice"], announcement_id=announcement.pk)

    client.force_login(demo["erin"])
    response = client.get(f"/announcements/{announcement.pk}/stats/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-testid="stat-audience">5<', html) and re.search(r'data-testid="stat-read">2<', html)
    assert re.search(r'data-testid="stat-confirmed">1<', html)
    # The chart: one bar per measure, as a share of those it reached.
    assert '<svg width="100%"' in html and 'data-testid="announcement-chart"' in html
    assert [(b["key"], b["percent"]) for b in response.context["bars"]] == [("delivered", 100), ("read", 40), ("confirmed", 20)]
    assert 'width="40%"' in html and 'width="20%"' in html
    unread = re.search(r'data-testid="announcement-unread">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r'data-username="(\w+)"', unread) == ["dev_lead", "erin", "hr_lead"]
    unconfirmed = re.search(r'data-testid="announcement-unconfirmed">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r'data-username="(\w+)"', unconfirmed) == ["alice", "dev_lead", "erin", "hr_lead"]
    assert 'data-testid="announcement-remind"' in html and f'/announcements/{announcement.pk}/stats.csv' in html

    client.force_login(demo["admin"])
    assert client.get(f"/announcements/{announcement.pk}/stats/").status_code == 200


def test_stats_are_for_the_author_and_administrators(client, demo, announce):
    announcement = announce(demo["erin"], {"departments": ["hr", "dev"]})
    client.force_login(demo["alice"])
    for url in (f"/announcements/{announcement.pk}/stats/", f"/announcements/{announcement.pk}/stats.csv"):
        response = client.get(url, follow=True)
        assert response.redirect_chain == [(f"/announcements/{announcement.pk}/", 302)]
        assert flashes(response) == ["Only the author can see who has read this."]
    response = client.post(f"/announcements/{announcement.pk}/remind/", follow=True)
    assert flashes(response) == ["Only the author can see who has read this."]
    assert not Message.objects.filter(body__reminder=True).exists()
    client.force_login(demo["erin"])
    assert client.get("/announcements/999/stats/", follow=True).redirect_chain == [("/announcements/", 302)]


def test_remind_the_rest(client, demo, announce, django_capture_on_commit_callbacks):
    announcement = announce(demo["erin"], {"departments": ["dev"]}, requires_confirmation=True)
    services.announcement_confirm(user=demo["bob"], announcement_id=announcement.pk)
    client.force_login(demo["erin"])
    page = client.get(f"/announcements/{announcement.pk}/stats/")
    run_id = page.context["run_id"]
    url = f"/announcements/{announcement.pk}/remind/"
    response = post(client, django_capture_on_commit_callbacks, url, {"run_id": run_id})
    assert response.redirect_chain == [(f"/announcements/{announcement.pk}/stats/", 302)]
    assert flashes(response) == ["A reminder is on its way to 2 people."]
    # The same form sent twice (a double click) reminds once.
    post(client, django_capture_on_commit_callbacks, url, {"run_id": run_id})
    assert Message.objects.filter(body__reminder=True).count() == 2

    for user in ("alice", "dev_lead"):
        services.announcement_confirm(user=demo[user], announcement_id=announcement.pk)
    response = post(client, django_capture_on_commit_callbacks, url)
    assert flashes(response) == ["There is nobody left to remind."]
    assert 'data-testid="announcement-remind" disabled' in response.content.decode()
    assert client.get(url).status_code == 405


def test_csv_export(client, demo, announce):
    demo["bob"].display_name = "=HYPERLINK(\"http://evil\")"
    demo["bob"].save(update_fields=["display_name"])
    announcement = announce(demo["erin"], {"departments": ["dev"]}, requires_confirmation=True)
    services.announcement_confirm(user=demo["bob"], announcement_id=announcement.pk)
    client.force_login(demo["erin"])
    response = client.get(f"/announcements/{announcement.pk}/stats.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="announcement-{announcement.pk}-receipts.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["username", "display_name", "department", "delivered", "read_at", "confirmed_at"]
    assert [r[:3] for r in rows[1:]] == [
        ["alice", "Alice Wang", "Development"],
        ["bob", "'=HYPERLINK(\"http://evil\")", "Development"],  # not a formula in a spreadsheet
        ["dev_lead", "Diego Alvarez", "Development"],
    ]
    alice, bob = rows[1], rows[2]
    assert alice[3] and alice[4:] == ["", ""]
    assert bob[4] and bob[5] and bob[5].startswith(str(timezone.localdate().year))


def test_pinned_banner(demo, announce):
    announce(demo["erin"], {"departments": ["dev"]}, title="Not pinned")
    pinned = [announce(demo["erin"], {"departments": ["dev"]}, title=f"Pinned {n}", pinned=True) for n in range(5)]
    template = Template('{% include "apps_announcements/pinned_banner.html" %}')

    def render(user) -> str:
        request = RequestFactory().get("/chat/")
        request.user = user
        return template.render(Context({"request": request, "user": user}))

    html = render(demo["alice"])
    assert 'data-testid="announcement-banner"' in html
    shown = re.findall(r'data-announcement="(\d+)">([^<]+)<', html)
    assert shown == [(str(a.pk), a.title) for a in reversed(pinned)][:3]
    assert f'href="/announcements/{pinned[-1].pk}/"' in html and "and 2 more" in html
    assert "Not pinned" not in html
    assert render(demo["carol"]).strip() == ""


def test_the_chat_loads_the_card_renderer(client, demo):
    client.force_login(demo["alice"])
    html = client.get("/chat/").content.decode()
    assert '<script type="module" src="/static/apps_announcements/announcement.js"></script>' in html
    # Its strings come from the JavaScript catalogue, not from the page.
    assert "sb-announcement-strings" not in html
