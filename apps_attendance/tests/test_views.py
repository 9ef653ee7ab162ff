"""The attendance pages: my month, punching from the page and the chat's banner, the team
page with its chart, and the CSV and Excel exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from apps_attendance import services
from apps_attendance.models import DayResult, Holiday, Leave, Punch
from contacts.models import Department, Membership
from messaging.models import Message

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# Last month is over, so every day of it counts on the team page and in the summary.
LAST_MONTH = (TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
MONTH = LAST_MONTH.strftime("%Y-%m")


def weekdays(first: date) -> list[date]:
    """The Monday-to-Friday days of ``first``'s month."""
    day, days = first, []
    while day.month == first.month:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def saturday(first: date) -> date:
    return next(first + timedelta(days=n) for n in range(7) if (first + timedelta(days=n)).weekday() == 5)


def punch(user, day: date, hh: int, mm: int, kind: str) -> Punch:
    return Punch.objects.create(
        user=user, kind=kind, source=Punch.Source.API, at=timezone.make_aware(datetime.combine(day, time(hh, mm)))
    )


def worked(user, day: date, check_in=None, check_out=None) -> DayResult:
    """A closed day with these punches, through the same computation as the real thing."""
    if check_in:
        punch(user, day, *check_in, Punch.Kind.CHECK_IN)
    if check_out:
        punch(user, day, *check_out, Punch.Kind.CHECK_OUT)
    return services.day_result_compute(user=user, day=day)


@pytest.fixture
def alices_month(demo):
    """Last month of alice: one day of each status."""
    alice, days = demo["alice"], weekdays(LAST_MONTH)
    Leave.objects.create(user=alice, start=days[5], end=days[5], leave_type="annual", approval_id=1)
    return {
        "normal": worked(alice, days[0], (8, 55), (18, 5)),
        "late": worked(alice, days[1], (9, 25), (18, 0)),
        "early_leave": worked(alice, days[2], (9, 0), (17, 30)),
        "absent": worked(alice, days[3]),
        "missing_punch": worked(alice, days[4], (9, 0)),
        "on_leave": worked(alice, days[5]),
        "rest_day": worked(alice, saturday(LAST_MONTH), (10, 0), (12, 0)),
    }


def cells(html: str) -> dict[str, str]:
    """``{date: status}`` of the calendar's days."""
    return dict(re.findall(r'data-testid="attendance-day" data-date="([\d-]+)" data-status="(\w+)"', html))


def cell(html: str, day: date) -> str:
    match = re.search(rf'<td[^>]*data-date="{day.isoformat()}".*?</td>', html, re.S)
    assert match, day
    return match.group(0)


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# ---------------------------------------------------------------------------------------
# My month
# ---------------------------------------------------------------------------------------
def test_pages_need_a_sign_in(client):
    for url in ("/attendance/", "/attendance/team/", "/attendance/today/", "/attendance/export.csv",
                "/attendance/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url
    response = client.post("/attendance/check-in/")
    assert response.status_code == 302 and "/login" in response["Location"]
    assert not Punch.objects.exists()


def test_the_calendar_colours_each_day_by_its_status(client, demo, alices_month):
    client.force_login(demo["alice"])
    response = client.get("/attendance/", {"month": MONTH})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="attendance-calendar"' in html and "My attendance" in html
    statuses = cells(html)
    first, last = LAST_MONTH, (TODAY.replace(day=1) - timedelta(days=1))
    assert len(statuses) == last.day and min(statuses) == first.isoformat()
    for status, result in alices_month.items():
        assert statuses[result.date.isoformat()] == status
    # Last month's other days have no result yet (the closing task computes them).
    assert {s for d, s in statuses.items() if d not in {r.date.isoformat() for r in alices_month.values()}} == {"none"}

    late = cell(html, alices_month["late"].date)
    assert "25 min late" in late and "09:25" in late and "18:00" in late and "Late" in late
    early = cell(html, alices_month["early_leave"].date)
    assert "30 min early" in early and "17:30" in early
    assert "09:00" in cell(html, alices_month["missing_punch"].date)
    # The calendar starts on Monday: blank cells before the 1st.
    assert html.count('class="att-day att-blank"') >= LAST_MONTH.weekday()
    for label in ("Normal", "Late", "Left early", "Absent", "On leave", "Missing punch", "Rest day", "No result yet"):
        assert label in html

    summary = response.context["summary"]
    assert summary["counts"] == {
        "normal": 1, "late": 1, "early_leave": 1, "absent": 1, "on_leave": 1, "missing_punch": 1, "rest_day": 1,
    }
    # At work on 4 of the 5 workdays expected (leave and the rest day left out).
    assert summary["rate"] == 80 and 'data-testid="attendance-rate">80%<' in html
    assert summary["minutes_late"] == 25
    assert f'?month={(LAST_MONTH - timedelta(days=1)).strftime("%Y-%m")}' in html
    assert f'?month={TODAY.strftime("%Y-%m")}' in html  # the next month is this one


def test_this_month_shows_today_and_the_days_to_come(client, demo):
    client.force_login(demo["bob"])
    html = client.get("/attendance/").content.decode()
    statuses = cells(html)
    assert statuses[TODAY.isoformat()] == "none"
    assert "att-day-today" in cell(html, TODAY)
    tomorrow = TODAY + timedelta(days=1)
    if tomorrow.month == TODAY.month:
        assert statuses[tomorrow.isoformat()] == "future"
    # No next month: it has not begun.
    assert 'data-testid="attendance-next"' not in html
    assert 'data-testid="check-in"' in html and 'data-testid="check-out"' in html


def test_a_month_that_is_not_a_month(client, demo):
    client.force_login(demo["bob"])
    response = client.get("/attendance/", {"month": "November"})
    assert response.status_code == 200 and response.context["month"] == TODAY.strftime("%Y-%m")
    assert flashes(response) == ["month must look like 2026-11."]


def test_a_manager_opens_the_month_of_their_own_people_only(client, demo, alices_month):
    client.force_login(demo["dev_lead"])
    response = client.get("/attendance/", {"user": "alice", "month": MONTH})
    html = response.content.decode()
    assert response.status_code == 200 and "Attendance of Alice Wang" in html
    assert cells(html)[alices_month["late"].date.isoformat()] == "late"
    # Nobody punches for someone else.
    assert 'data-testid="check-in"' not in html
    assert f"/attendance/export.csv?month={MONTH}&amp;user=alice" in html

    refused = client.get("/attendance/", {"user": "carol", "month": MONTH})
    assert refused.status_code == 403
    assert "You can see the days of your own department&#x27;s people only." in refused.content.decode()
    client.force_login(demo["bob"])
    assert client.get("/attendance/", {"user": "alice"}).status_code == 403
    assert client.get("/attendance/", {"user": "bob"}).status_code == 200


# ---------------------------------------------------------------------------------------
# Punching from the page and from the chat's banner
# ---------------------------------------------------------------------------------------
def test_check_in_and_out_from_the_page(client, demo, django_capture_on_commit_callbacks):
    client.force_login(demo["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/attendance/check-in/", follow=True)
    assert response.redirect_chain == [("/attendance/", 302)]
    punch = Punch.objects.get(user=demo["alice"])
    assert (punch.kind, punch.source, punch.address) == ("check_in", "page", "127.0.0.1")
    assert flashes(response) == [f"Checked in at {timezone.localtime(punch.at):%H:%M}"]
    confirmation = Message.objects.get(app="attendance", conversation__memberships__user=demo["alice"])
    assert confirmation.body["kind"] == "check_in"
    assert 'data-state="in"' in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/attendance/check-out/", {"next": "/chat/"})
    assert response.status_code == 302 and response["Location"] == "/chat/"
    assert list(Punch.objects.filter(user=demo["alice"]).values_list("kind", flat=True)) == ["check_in", "check_out"]
    # Only this site's own pages to go back to.
    response = client.post("/attendance/check-out/", {"next": "https://evil.example/"})
    assert response["Location"] == "/attendance/"
    assert client.get("/attendance/check-in/").status_code == 405


def test_the_banner_follows_the_day(client, demo):
    client.force_login(demo["alice"])

    def banner() -> str:
        response = client.get("/attendance/today/", {"next": "/chat/"})
        assert response.status_code == 200
        return response.content.decode()

    Holiday.objects.filter(date=TODAY).delete()
    workday = TODAY.weekday() < 5
    html = banner()
    if workday:
        assert 'data-state="none"' in html and "Not checked in yet" in html and "Work 09:00–18:00" in html
        assert 'data-testid="check-in"' in html and 'data-api="/api/v1/attendance/check-in/"' in html
        assert 'name="next" value="/chat/"' in html and 'data-testid="check-out"' not in html

    services.punch_record(user=demo["alice"], kind="check_in", source=Punch.Source.CHAT)
    html = banner()
    first_in = timezone.localtime(Punch.objects.get(user=demo["alice"]).at)
    assert 'data-state="in"' in html and f"Checked in at {first_in:%H:%M}" in html
    if workday:
        assert 'data-testid="check-out"' in html and 'data-testid="check-in"' not in html

    services.punch_record(user=demo["alice"], kind="check_out", source=Punch.Source.CHAT)
    html = banner()
    assert 'data-state="out"' in html and "Checked out at" in html
    assert 'data-testid="check-in"' not in html and 'data-testid="check-out"' not in html

    # A rest day: no button, and it says so.
    Holiday.objects.create(date=TODAY, name="Founders' day")
    client.force_login(demo["bob"])
    html = banner()
    assert 'data-workday="false"' in html and "Rest day: Founders&#x27; day." in html
    assert 'data-testid="check-in"' not in html


def test_no_button_on_leave(client, demo):
    Holiday.objects.create(date=TODAY, name="Make-up day", is_workday=True)
    Leave.objects.create(user=demo["bob"], start=TODAY, end=TODAY, approval_id=7)
    client.force_login(demo["bob"])
    html = client.get("/attendance/today/").content.decode()
    assert "On leave today." in html and 'data-testid="check-in"' not in html


def test_the_chat_shows_the_banner_and_loads_the_card_renderer(client, demo):
    client.force_login(demo["alice"])
    html = client.get("/chat/").content.decode()
    assert 'data-testid="attendance-banner"' in html and 'data-src="/attendance/today/?next=/chat/"' in html
    # A module: it imports what it needs from the chat, whatever the order of the scripts.
    assert '<script type="module" src="/static/apps_attendance/attendance.js"></script>' in html
    # Its strings come from the JavaScript catalogue, not from the page.
    assert "sb-attendance-strings" not in html


# ---------------------------------------------------------------------------------------
# The team page
# ---------------------------------------------------------------------------------------
def test_the_team_page(client, demo, alices_month):
    bob, days = demo["bob"], weekdays(LAST_MONTH)
    worked(bob, days[0], (9, 40), (18, 0))
    worked(bob, days[1], (9, 0), (18, 0))
    client.force_login(demo["dev_lead"])
    response = client.get("/attendance/team/", {"month": MONTH})
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["department"].code == "dev"
    rows = {row["user"].username: row for row in response.context["summary"]}
    assert set(rows) == {"alice", "bob", "dev_lead"}
    assert rows["bob"]["counts"]["late"] == 1 and rows["bob"]["minutes_late"] == 40 and rows["bob"]["rate"] == 100
    assert rows["alice"]["rate"] == 80 and rows["dev_lead"]["rate"] is None
    assert response.context["totals"] == {
        "people": 3, "rate": 86, "late_days": 2, "minutes_late": 65, "absent_days": 1,
    }  # 6 days at work of 7 expected
    assert f'href="/attendance/?user=alice&amp;month={MONTH}"' in html
    assert f"/attendance/export.csv?month={MONTH}&amp;department=dev" in html
    assert f"/attendance/export.xlsx?month={MONTH}&amp;department=dev" in html
    # The chart: one group per day, with the day's rate and people late.
    assert 'data-testid="attendance-chart"' in html and "<svg" in html
    chart = dict(
        (d, (rate, late)) for d, rate, late in re.findall(
            r'data-testid="chart-day" data-date="([\d-]+)" data-rate="(\d*)" data-late="(\d+)"', html
        )
    )
    assert len(chart) == len(cells(client.get("/attendance/", {"month": MONTH}).content.decode()))
    assert chart[days[0].isoformat()] == ("100", "1")  # alice normal, bob late
    assert chart[days[1].isoformat()] == ("100", "1")  # alice late, bob normal
    assert chart[days[3].isoformat()] == ("0", "0")  # alice absent
    assert chart[days[5].isoformat()] == ("", "0")  # alice on leave: nobody expected
    caption = re.search(r'data-testid="attendance-chart-caption">(.*?)</figcaption>', html, re.S).group(1)
    assert "Over the month: 86% at work." in caption and "Most late on one day: 1 person" in caption
    # One department: no chooser.
    assert 'data-testid="attendance-departments"' not in html


def test_the_team_page_is_for_managers_of_that_department(client, demo):
    client.force_login(demo["alice"])
    response = client.get("/attendance/team/")
    assert response.status_code == 403
    assert "The team page is for department managers." in response.content.decode()

    client.force_login(demo["dev_lead"])
    for department in ("sales", "company", "nonsense"):
        response = client.get("/attendance/team/", {"department": department})
        assert response.status_code == 403, department
        assert "your own department&#x27;s people only" in response.content.decode()


def test_a_manager_of_several_departments_chooses(client, demo):
    client.force_login(demo["president"])
    response = client.get("/attendance/team/")
    html = response.content.decode()
    # The root department has no people of its own: the first of theirs with people is shown.
    assert response.context["department"].code == "office"
    # The chooser holds the departments they manage and those below them, in the tree's order.
    chooser = re.findall(r'data-testid="attendance-department" data-department="(\w+)"', html)
    assert chooser == ["company", "dev", "hr", "marketing", "office", "sales"]
    assert {row["user"].username for row in response.context["summary"]} == {"president", "secretary"}
    assert client.get("/attendance/team/", {"department": "company"}).status_code == 200
    client.force_login(demo["dev_lead"])
    assert client.get("/attendance/team/", {"department": "office"}).status_code == 403


def test_a_manager_opens_a_department_below_theirs(client, demo, alices_month):
    dev = Department.objects.get(code="dev")
    platform = Department.objects.add_child(dev, {"name": "Platform", "code": "platform", "manager": demo["bob"]})
    Membership.objects.filter(user=demo["alice"]).update(department=platform)

    client.force_login(demo["president"])
    response = client.get("/attendance/team/", {"department": "dev", "month": MONTH})
    assert response.status_code == 200
    assert response.context["department"].code == "dev"
    assert {row["user"].username for row in response.context["summary"]} == {"dev_lead", "alice", "bob"}
    html = response.content.decode()
    assert f"/attendance/export.csv?month={MONTH}&amp;department=dev" in html
    response = client.get("/attendance/team/", {"department": "platform", "month": MONTH})
    assert response.status_code == 200
    assert {row["user"].username for row in response.context["summary"]} == {"alice"}
    for url in ("/attendance/export.csv", "/attendance/export.xlsx"):
        for code in ("dev", "platform", "sales"):
            response = client.get(url, {"month": MONTH, "department": code})
            assert response.status_code == 200, (url, code)
            assert response["Content-Disposition"].endswith(f'attendance-{MONTH}-{code}.{url.rsplit(".", 1)[1]}"')
    rows = list(csv.reader(io.StringIO(
        client.get("/attendance/export.csv", {"month": MONTH, "department": "platform"}).content.decode("utf-8-sig")
    )))
    assert {r[0] for r in rows[1:]} == {"alice"}
    assert client.get("/attendance/", {"user": "alice", "month": MONTH}).status_code == 200

    # dev's manager reaches the sub-department; its own manager nothing above it.
    client.force_login(demo["dev_lead"])
    assert client.get("/attendance/team/", {"department": "platform"}).status_code == 200
    chooser = re.findall(r'data-testid="attendance-department" data-department="(\w+)"',
                         client.get("/attendance/team/").content.decode())
    assert chooser == ["dev", "platform"]
    client.force_login(demo["bob"])
    assert client.get("/attendance/team/").context["department"].code == "platform"
    for url in ("/attendance/team/", "/attendance/export.csv"):
        response = client.get(url, {"month": MONTH, "department": "dev"})
        assert response.status_code == 403 and "your own department&#x27;s people only" in response.content.decode()
    client.force_login(demo["sales_lead"])
    for url in ("/attendance/team/", "/attendance/export.csv", "/attendance/export.xlsx"):
        assert client.get(url, {"month": MONTH, "department": "platform"}).status_code == 403, url
    assert client.get("/attendance/", {"user": "alice", "month": MONTH}).status_code == 403


def test_the_team_page_does_not_query_per_person_or_day(client, demo, django_assert_max_num_queries):
    client.force_login(demo["dev_lead"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/attendance/team/", {"month": MONTH}).status_code == 200
        return len(captured)

    few = queries()
    for day in weekdays(LAST_MONTH):
        for person in ("alice", "bob", "dev_lead"):
            worked(demo[person], day, (9, day.day % 30), (18, 0))
    for person in ("carol", "dave", "erin"):
        Membership.objects.create(user=demo[person], department=Department.objects.get(code="dev"), is_primary=False)
    assert queries() == few
    # The session and its user, the departments, their people, the summary and the series;
    # the tab bar's unread messages and waiting requests.
    with django_assert_max_num_queries(10):
        client.get("/attendance/team/", {"month": MONTH})


# ---------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------
EXPORT_HEADER = [
    "username", "display_name", "department", "date", "status", "minutes_late", "minutes_early",
    "first_check_in", "last_check_out",
]


def test_csv_export(client, demo, alices_month):
    demo["bob"].display_name = "=HYPERLINK(\"http://evil\")"
    demo["bob"].save(update_fields=["display_name"])
    client.force_login(demo["dev_lead"])
    response = client.get("/attendance/export.csv", {"month": MONTH, "department": "dev"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="attendance-{MONTH}-dev.csv"'
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    days_in_month = len(cells(client.get("/attendance/", {"month": MONTH}).content.decode()))
    assert rows[0] == EXPORT_HEADER and len(rows) == 1 + 3 * days_in_month
    assert {r[0] for r in rows[1:]} == {"alice", "bob", "dev_lead"}
    late_day = alices_month["late"].date.isoformat()
    late = next(r for r in rows if r[0] == "alice" and r[3] == late_day)
    assert late[:7] == ["alice", "Alice Wang", "Development", late_day, "late", "25", "0"]
    assert late[7] == f"{late_day}T09:25:00+00:00" and late[8] == f"{late_day}T18:00:00+00:00"
    missing = next(r for r in rows if r[0] == "alice" and r[3] == alices_month["missing_punch"].date.isoformat())
    assert missing[4] == "missing_punch" and missing[8] == ""
    # No result yet: an empty status.
    assert next(r for r in rows if r[0] == "dev_lead")[4:] == ["", "0", "0", "", ""]
    assert next(r for r in rows if r[0] == "bob")[1] == "'=HYPERLINK(\"http://evil\")"  # not a formula


def test_xlsx_export(client, demo, alices_month):
    demo["bob"].display_name = "=1+2"
    demo["bob"].save(update_fields=["display_name"])
    client.force_login(demo["dev_lead"])
    response = client.get("/attendance/export.xlsx", {"month": MONTH, "department": "dev"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == f'attachment; filename="attendance-{MONTH}-dev.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == MONTH
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == EXPORT_HEADER and all(c.font.bold for c in sheet[1])
    assert sheet.column_dimensions["B"].width == 24 and sheet.freeze_panes == "A2"
    late_day = alices_month["late"].date
    late = next(r for r in rows if r[0] == "alice" and r[3] == datetime.combine(late_day, time()))
    assert late[:3] == ("alice", "Alice Wang", "Development") and late[4:7] == ("late", 25, 0)
    assert late[7] == datetime.combine(late_day, time(9, 25)) and late[8] == datetime.combine(late_day, time(18, 0))
    bob = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "bob")
    assert bob[1].value == "=1+2" and bob[1].data_type == "s"  # text, not a formula
    assert bob[3].number_format == "yyyy-mm-dd"


def test_exports_to_the_same_people_as_the_pages(client, demo, alices_month):
    client.force_login(demo["alice"])
    mine = client.get("/attendance/export.csv", {"month": MONTH})
    assert mine.status_code == 200 and mine["Content-Disposition"].endswith(f'attendance-{MONTH}-alice.csv"')
    assert {r[0] for r in list(csv.reader(io.StringIO(mine.content.decode("utf-8-sig"))))[1:]} == {"alice"}
    for url in ("/attendance/export.csv", "/attendance/export.xlsx"):
        assert client.get(url, {"month": MONTH, "department": "dev"}).status_code == 403, url
        assert client.get(url, {"month": MONTH, "user": "bob"}).status_code == 403, url
        assert client.get(url, {"month": "2026-13"}).status_code == 400, url
    client.force_login(demo["dev_lead"])
    assert client.get("/attendance/export.xlsx", {"month": MONTH, "user": "alice"}).status_code == 200
    for params in ({"department": "sales"}, {"user": "carol"}):
        response = client.get("/attendance/export.csv", {"month": MONTH, **params})
        assert response.status_code == 403 and "your own department&#x27;s people only" in response.content.decode()
