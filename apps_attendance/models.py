"""Attendance: schedules, the holiday calendar, punches and each person's daily result."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

WEEKDAYS = [0, 1, 2, 3, 4]  # Monday to Friday


def default_work_days() -> list[int]:
    return list(WEEKDAYS)


class ScheduleFields(models.Model):
    work_days = models.JSONField(
        _("work days"), default=default_work_days, help_text=_("0 is Monday … 6 is Sunday.")
    )
    start = models.TimeField(_("start"), default=time(9, 0))
    end = models.TimeField(_("end"), default=time(18, 0))
    grace_minutes = models.PositiveSmallIntegerField(_("grace minutes"), default=10)
    flexible_minutes = models.PositiveSmallIntegerField(
        _("flexible start (minutes)"),
        default=0,
        help_text=_("Arriving up to this much later is fine if the day is made up at the end."),
    )

    class Meta:
        abstract = True


class WorkSchedule(ScheduleFields):
    """A department's schedule; departments below without their own inherit it."""

    department = models.OneToOneField(
        "contacts.Department", on_delete=models.CASCADE, related_name="work_schedule", verbose_name=_("department")
    )

    class Meta:
        verbose_name = _("work schedule")
        verbose_name_plural = _("work schedules")

    def __str__(self) -> str:
        return f"{self.department}: {self.start:%H:%M}–{self.end:%H:%M}"


class PersonSchedule(ScheduleFields):
    """One person's own schedule, in place of their department's."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="work_schedule", verbose_name=_("user")
    )

    class Meta:
        verbose_name = _("personal schedule")
        verbose_name_plural = _("personal schedules")


class Holiday(models.Model):
    """The company calendar: a day off, or (``is_workday``) a weekend day worked instead."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_workday = models.BooleanField(_("worked"), default=False, help_text=_("A make-up workday, not a day off."))

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class Punch(models.Model):
    class Kind(models.TextChoices):
        CHECK_IN = "check_in", _("Check in")
        CHECK_OUT = "check_out", _("Check out")

    class Source(models.TextChoices):
        CHAT = "chat", _("Chat")
        PAGE = "page", _("Attendance page")
        API = "api", _("API")
        CORRECTION = "correction", _("Approved correction")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="punches", verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("at"), db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    approval_id = models.PositiveBigIntegerField(_("approval"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("punch")
        verbose_name_plural = _("punches")
        ordering = ["at"]
        indexes = [models.Index(fields=["user", "at"])]


class Leave(models.Model):
    """Approved leave, as the approvals' domain event reported it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leaves", verbose_name=_("user"))
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    leave_type = models.CharField(_("leave type"), max_length=32, blank=True)
    approval_id = models.PositiveBigIntegerField(_("approval"), unique=True)

    class Meta:
        verbose_name = _("leave")
        verbose_name_plural = _("leave")


class DayResult(models.Model):
    class Status(models.TextChoices):
        NORMAL = "normal", _("Normal")
        LATE = "late", _("Late")
        EARLY_LEAVE = "early_leave", _("Left early")
        ABSENT = "absent", _("Absent")
        ON_LEAVE = "on_leave", _("On leave")
        MISSING_PUNCH = "missing_punch", _("Missing punch")
        REST_DAY = "rest_day", _("Rest day")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="day_results", verbose_name=_("user"))
    date = models.DateField(_("date"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    minutes_late = models.PositiveIntegerField(_("minutes late"), default=0)
    minutes_early = models.PositiveIntegerField(_("minutes early"), default=0)
    first_in = models.DateTimeField(_("first check-in"), null=True, blank=True)
    last_out = models.DateTimeField(_("last check-out"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed"), auto_now=True)

    class Meta:
        verbose_name = _("day result")
        verbose_name_plural = _("day results")
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="day_result_unique")]
        ordering = ["date"]
