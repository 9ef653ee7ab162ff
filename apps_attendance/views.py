"""Attendance pages: my month (or, for their manager, one of my colleagues'), checking in
and out, the manager's team page with its chart, the CSV and Excel exports, and today's
banner for the chat. Thin: reads go through selectors, punches through the same service
as the API."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core.errors import ApplicationError
from core.exports import csv_response

from . import selectors, services
from .models import DayResult, Punch

Status = DayResult.Status

#: What a calendar day shows when it has no result: not computed yet, or still to come.
NO_RESULT = "none"
FUTURE = "future"
STATUS_LABELS = {
    **dict(Status.choices),
    NO_RESULT: gettext_lazy("No result yet"),
    FUTURE: gettext_lazy("Still to come"),
}


# ---------------------------------------------------------------------------------------
# Shared
# ---------------------------------------------------------------------------------------
def _refused(request, detail: str, *, status: int = 403):
    heading = _("That did not work") if status == 400 else ""
    return render(request, "apps_attendance/refused.html", {"detail": detail, "heading": heading}, status=status)


def _month(request) -> tuple[date, date]:
    """The month of ``?month=YYYY-MM``, this month by default."""
    value = request.GET.get("month") or timezone.localdate().strftime("%Y-%m")
    return selectors.month_bounds(value)


def _month_for_page(request) -> tuple[date, date]:
    """As ``_month``; a page shows this month, with a word, for a month that is not one."""
    try:
        return _month(request)
    except ApplicationError as error:
        messages.error(request, error.detail)
        return selectors.month_bounds(timezone.localdate().strftime("%Y-%m"))


def _month_links(first: date) -> dict:
    this_month = timezone.localdate().replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return {
        "month": first.strftime("%Y-%m"),
        "month_label": date_format(first, "YEAR_MONTH_FORMAT"),
        "previous_month": previous.strftime("%Y-%m"),
        "previous_label": date_format(previous, "YEAR_MONTH_FORMAT"),
        # Months to come have nothing to show yet.
        "next_month": following.strftime("%Y-%m") if following <= this_month else "",
        "next_label": date_format(following, "YEAR_MONTH_FORMAT"),
        "is_this_month": first == this_month,
    }


def _time(value: datetime | None) -> str:
    return f"{timezone.localtime(value):%H:%M}" if value else ""


# ---------------------------------------------------------------------------------------
# My month (or one of my people's)
# ---------------------------------------------------------------------------------------
def _calendar_cell(day: selectors.PersonDay, today: date) -> dict:
    if day.status:
        key = day.status
    else:
        key = FUTURE if day.date > today else NO_RESULT
    # Until today is over a single check-in is not yet a missing punch: it is today so far.
    is_open = day.date == today and key in (NO_RESULT, Status.MISSING_PUNCH)
    first_in, last_out = _time(day.first_in), _time(day.last_out)
    label = _("Today") if is_open else STATUS_LABELS[key]
    details = [str(label)]
    if day.minutes_late:
        details.append(_("%(minutes)d min late") % {"minutes": day.minutes_late})
    if day.minutes_early:
        details.append(_("%(minutes)d min early") % {"minutes": day.minutes_early})
    if first_in:
        details.append(_("in %(time)s") % {"time": first_in})
    if last_out:
        details.append(_("out %(time)s") % {"time": last_out})
    return {
        "date": day.date,
        "status": key,
        "label": label,
        "is_today": day.date == today,
        "is_open": is_open,
        "minutes_late": day.minutes_late,
        "minutes_early": day.minutes_early,
        "first_in": first_in,
        "last_out": last_out,
        # Spoken and shown on hover: everything the cell says, in words.
        "description": f"{date_format(day.date, 'DATE_FORMAT')}: {', '.join(details)}",
    }


def _weeks(cells: list[dict], first: date) -> list[list[dict | None]]:
    """Monday-to-Sunday rows, padded with empty cells before the 1st and after the end."""
    padded: list[dict | None] = [None] * first.weekday() + cells
    padded += [None] * (-len(padded) % 7)
    return [padded[i : i + 7] for i in range(0, len(padded), 7)]


@login_required
@require_GET
def attendance_month(request):
    first, last = _month_for_page(request)
    username = request.GET.get("user") or None
    try:
        (person,) = selectors.people_for_viewer(viewer=request.user, username=username)
    except ApplicationError as error:
        return _refused(request, error.detail)
    is_me = person.pk == request.user.pk
    today = timezone.localdate()
    cells = [_calendar_cell(day, today) for day in selectors.person_days(users=[person], first=first, last=last)]
    (summary,) = selectors.team_summary(users=[person], first=first, last=last)
    managed = selectors.managed_departments(viewer=request.user)
    return render(
        request,
        "apps_attendance/month.html",
        {
            **_month_links(first),
            "person": person,
            "is_me": is_me,
            "user_param": "" if is_me else person.username,
            "weekdays": [WEEKDAYS_ABBR[i] for i in range(7)],
            "weeks": _weeks(cells, first),
            "legend": [(key, STATUS_LABELS[key]) for key in [*Status.values, NO_RESULT]],
            "summary": summary,
            "summary_counts": [(key, label, summary["counts"][key]) for key, label in Status.choices],
            "today": selectors.attendance_today(user=person),
            "managed": managed,
        },
    )


# ---------------------------------------------------------------------------------------
# Checking in and out
# ---------------------------------------------------------------------------------------
def _punched_text(punch: Punch) -> str:
    time = _time(punch.at)
    if punch.kind == Punch.Kind.CHECK_IN:
        return _("Checked in at %(time)s") % {"time": time}
    return _("Checked out at %(time)s") % {"time": time}


def _punch(request, kind: str):
    try:
        punch = services.punch_record(
            user=request.user, kind=kind, source=Punch.Source.PAGE, address=request.META.get("REMOTE_ADDR")
        )
    except ApplicationError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _punched_text(punch))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("attendance:month")
    return redirect(next_url)


@login_required
@require_POST
def attendance_check_in(request):
    return _punch(request, Punch.Kind.CHECK_IN)


@login_required
@require_POST
def attendance_check_out(request):
    return _punch(request, Punch.Kind.CHECK_OUT)


@login_required
@require_GET
def attendance_today(request):
    """Today's banner for the chat page, which fetches it and fetches it again after a punch."""
    return render(
        request,
        "apps_attendance/_today.html",
        {"today": selectors.attendance_today(user=request.user), "next": request.GET.get("next", "")},
    )


# ---------------------------------------------------------------------------------------
# The team page: managers only
# ---------------------------------------------------------------------------------------
CHART_RATE_TOP, CHART_RATE_HEIGHT = 22, 120
CHART_LATE_TOP, CHART_LATE_HEIGHT = 172, 36
CHART_HEIGHT = 236
#: The left of the chart, in percent of its width, keeps the axis' labels clear of the bars.
CHART_GUTTER = 9


def _pct(value: float) -> str:
    return f"{value:.3f}%"


def _team_chart(series: list[dict]) -> dict:
    """The SVG's geometry: one slot per day, x in percent of the width (so the chart fills a
    phone or a desktop alike), y in pixels; a bar of attendance rate above, of people
    late below."""
    slot = (100 - CHART_GUTTER) / len(series)
    most_late = max((day["late"] for day in series if day["closed"]), default=0)
    rate_base = CHART_RATE_TOP + CHART_RATE_HEIGHT
    late_base = CHART_LATE_TOP + CHART_LATE_HEIGHT
    days = []
    for i, day in enumerate(series):
        rate_height = round(CHART_RATE_HEIGHT * day["rate"] / 100) if day["rate"] is not None else 0
        late_height = round(CHART_LATE_HEIGHT * day["late"] / most_late) if most_late and day["late"] else 0
        when = date_format(day["date"], "MONTH_DAY_FORMAT")
        if day["rate"] is not None:
            title = _("%(day)s: %(rate)d%% at work (%(present)d of %(expected)d), %(late)d late") % {
                "day": when, "rate": day["rate"], "present": day["present"], "expected": day["expected"], "late": day["late"],
            }
        elif day["closed"]:
            title = _("%(day)s: nobody was expected at work") % {"day": when}
        else:
            title = _("%(day)s: not over yet") % {"day": when}
        days.append(
            {
                **day,
                "slot_x": _pct(CHART_GUTTER + i * slot),
                "slot_width": _pct(slot),
                "x": _pct(CHART_GUTTER + i * slot + slot * 0.15),
                "width": _pct(slot * 0.7),
                "middle": _pct(CHART_GUTTER + (i + 0.5) * slot),
                # A day with nobody at work still shows a sliver, so that it reads as 0 %.
                "rate_height": max(rate_height, 2) if day["rate"] is not None else 0,
                "rate_y": rate_base - max(rate_height, 2),
                "late_height": late_height,
                "late_y": late_base - late_height,
                "label": str(day["date"].day) if day["date"].day == 1 or day["date"].day % 5 == 0 else "",
                "title": title,
            }
        )
    rated = [day for day in series if day["rate"] is not None]
    worst = max(rated, key=lambda day: (day["late"], -day["date"].toordinal()), default=None)
    return {
        "days": days,
        "height": CHART_HEIGHT,
        "rate_top": CHART_RATE_TOP,
        "rate_middle": CHART_RATE_TOP + CHART_RATE_HEIGHT // 2,
        "rate_base": rate_base,
        "rate_height": CHART_RATE_HEIGHT,
        "late_top": CHART_LATE_TOP,
        "late_base": late_base,
        "late_height": CHART_LATE_HEIGHT,
        "label_y": late_base + 20,
        "gutter": _pct(CHART_GUTTER),
        "axis_x": _pct(CHART_GUTTER - 1.5),
        "most_late": most_late,
        "worst_late": worst if worst and worst["late"] else None,
        "worst_label": date_format(worst["date"], "MONTH_DAY_FORMAT") if worst else "",
    }


@login_required
@require_GET
def attendance_team(request):
    departments = selectors.managed_departments(viewer=request.user)
    if not departments:
        return _refused(
            request,
            _("The team page is for department managers. Your own days are on the Attendance page."),
        )
    first, last = _month_for_page(request)
    # By default the first department of their own with people in it (a root department may
    # have none), else the first below them with people.
    default = next(
        (d for d in departments if d.people and d.manager_id == request.user.pk),
        next((d for d in departments if d.people), departments[0]),
    )
    code = request.GET.get("department") or default.code
    try:
        people = selectors.people_for_viewer(viewer=request.user, department_code=code)
    except ApplicationError as error:
        return _refused(request, error.detail)
    department = next(d for d in departments if d.code == code)
    summary = selectors.team_summary(users=people, first=first, last=last)
    for row in summary:
        row["status_counts"] = [(key, row["counts"][key]) for key in Status.values]
    chart = _team_chart(selectors.team_daily_series(users=people, first=first, last=last))
    return render(
        request,
        "apps_attendance/team.html",
        {
            **_month_links(first),
            "department": department,
            "departments": departments,
            "summary": summary,
            "statuses": Status.choices,
            "chart": chart,
            "totals": {
                "people": len(people),
                "rate": selectors.rate_percent(sum(r["present"] for r in summary), sum(r["expected"] for r in summary)),
                "late_days": sum(row["counts"][Status.LATE] for row in summary),
                "minutes_late": sum(row["minutes_late"] for row in summary),
                "absent_days": sum(row["counts"][Status.ABSENT] for row in summary),
            },
        },
    )


# ---------------------------------------------------------------------------------------
# Exports: one row per person and day, to the same people as the pages
# ---------------------------------------------------------------------------------------
def _export_rows(request) -> tuple[str, str, list[tuple]]:
    """``(file name without extension, month, rows)`` for the query's month and people."""
    first, last = _month(request)
    department, username = request.GET.get("department") or None, request.GET.get("user") or None
    people = selectors.people_for_viewer(viewer=request.user, department_code=department, username=username)
    month = first.strftime("%Y-%m")
    whose = slugify(department or username or request.user.username) or "export"
    return f"attendance-{month}-{whose}", month, selectors.attendance_export_rows(users=people, first=first, last=last)


def _export_refused(request, error: ApplicationError):
    return _refused(request, error.detail, status=403 if error.code == "not_permitted" else 400)


@login_required
@require_GET
def attendance_export_csv(request):
    try:
        name, _month_value, rows = _export_rows(request)
    except ApplicationError as error:
        return _export_refused(request, error)
    return csv_response(filename=f"{name}.csv", header=selectors.EXPORT_HEADER, rows=rows)


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_WIDTHS = [16, 24, 22, 12, 14, 14, 14, 16, 16]
XLSX_FORMATS = {3: "yyyy-mm-dd", 7: "hh:mm", 8: "hh:mm"}


def _xlsx_value(value):
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: local wall time.
        return timezone.localtime(value).replace(tzinfo=None)
    return value


@login_required
@require_GET
def attendance_export_xlsx(request):
    try:
        name, month, rows = _export_rows(request)
    except ApplicationError as error:
        return _export_refused(request, error)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = month
    sheet.append(selectors.EXPORT_HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
        for column, cell in enumerate(sheet[sheet.max_row]):
            if column in XLSX_FORMATS and cell.value is not None:
                cell.number_format = XLSX_FORMATS[column]
            elif isinstance(cell.value, str) and cell.value.startswith("="):
                # A name is text, never a formula.
                cell.data_type = "s"
    for column, width in enumerate(XLSX_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
