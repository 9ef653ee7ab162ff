from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

from .forms import template_check_definition
from .models import Approval, ApprovalEvent, ApprovalFile, ApprovalStep, ApprovalTemplate


class ApprovalTemplateForm(forms.ModelForm):
    class Meta:
        model = ApprovalTemplate
        fields = ["code", "name", "description", "fields", "steps", "cc", "is_active", "order"]
        help_texts = {
            "fields": _(
                'A list such as [{"name": "amount", "label": "Amount", "type": "number", "required": true}]; '
                "types: text, textarea, number, date, time, select (with options), items, file."
            ),
            "steps": _(
                'A list such as [{"name": "Manager", "approvers": {"kind": "manager"}, "mode": "any"}]; kinds: '
                'manager, next_manager, users (with "users"), department_managers (with "department"); mode any or '
                'all; optional "condition": {"field": "days", "op": ">", "value": 3}.'
            ),
            "cc": _('Approver specs to copy, such as [{"kind": "users", "users": ["hr_lead"]}].'),
        }

    def clean(self):
        cleaned = super().clean()
        try:
            template_check_definition(
                fields=cleaned.get("fields"), steps=cleaned.get("steps"), cc=cleaned.get("cc") or []
            )
        except ApplicationError as error:
            raise ValidationError(error.detail) from None
        return cleaned


@admin.register(ApprovalTemplate)
class ApprovalTemplateAdmin(admin.ModelAdmin):
    form = ApprovalTemplateForm
    list_display = ["name", "code", "is_active", "order"]
    list_editable = ["is_active", "order"]


class StepInline(admin.TabularInline):
    model = ApprovalStep
    extra = 0
    can_delete = False
    fields = ["index", "name", "mode", "state", "started_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    """The audit trail: shown, never edited."""

    model = ApprovalEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "action", "from_state", "to_state", "step_index", "comment"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    list_display = ["__str__", "requester", "state", "created_at", "finished_at"]
    list_filter = ["state", "template"]
    search_fields = ["requester__username", "requester__display_name"]
    list_select_related = ["template", "requester"]
    readonly_fields = ["template", "requester", "data", "state", "current_step", "client_id", "created_at", "finished_at"]
    exclude = ["reminded_at"]
    inlines = [StepInline, EventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApprovalFile)
class ApprovalFileAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "approval", "size", "uploaded_at"]
    readonly_fields = ["owner", "approval", "file", "name", "size", "content_type", "uploaded_at"]

    def has_add_permission(self, request):
        return False
