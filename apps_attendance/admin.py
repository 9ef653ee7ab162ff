from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import DayResult, Holiday, Leave, PersonSchedule, Punch, WorkSchedule

WEEKDAY_CHOICES = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class ScheduleForm(forms.ModelForm):
    work_days = forms.TypedMultipleChoiceField(
        label=_("Work days"), choices=WEEKDAY_CHOICES, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", _("The day must end after it starts."))
        return cleaned

    def clean_work_days(self):
        return sorted(self.cleaned_data["work_days"])


def _days_label(obj) -> str:
    names = dict(WEEKDAY_CHOICES)
    return ", ".join(str(names[d])[:3] for d in obj.work_days)


SCHEDULE_FIELDS = ["work_days", "start", "end", "grace_minutes", "flexible_minutes"]


@admin.register(WorkSchedule)
class WorkScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    fields = ["department", *SCHEDULE_FIELDS]
    list_display = ["department", "days", "start", "end", "grace_minutes", "flexible_minutes"]
    autocomplete_fields = ["department"]

    @admin.display(description=_("work days"))
    def days(self, obj):
        return _days_label(obj)


@admin.register(PersonSchedule)
class PersonScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    fields = ["user", *SCHEDULE_FIELDS]
    list_display = ["user", "days", "start", "end", "grace_minutes", "flexible_minutes"]
    autocomplete_fields = ["user"]
    search_fields = ["user__username", "user__display_name"]

    @admin.display(description=_("work days"))
    def days(self, obj):
        return _days_label(obj)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_workday"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that come from punches and approvals: looked at here, never typed in."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Punch)
class PunchAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "at", "source", "address"]
    list_filter = ["kind", "source"]
    date_hierarchy = "at"
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]


@admin.register(Leave)
class LeaveAdmin(ReadOnlyAdmin):
    list_display = ["user", "start", "end", "leave_type", "approval_id"]
    list_filter = ["leave_type"]
    date_hierarchy = "start"
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]


@admin.register(DayResult)
class DayResultAdmin(ReadOnlyAdmin):
    list_display = ["user", "date", "status", "minutes_late", "minutes_early", "first_in", "last_out"]
    list_filter = ["status"]
    date_hierarchy = "date"
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]
