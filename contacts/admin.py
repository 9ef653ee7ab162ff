from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from accounts.admin import UserAdmin
from accounts.models import User

from . import policy, selectors
from .events import department_people_changed_on_commit
from .models import Department, FriendRequest, Membership, VisibilityRule


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "title", "is_primary"]


class VisibilityRuleInline(admin.StackedInline):
    model = VisibilityRule
    extra = 0
    filter_horizontal = ["targets"]
    fk_name = "department"


@admin.register(Department)
class DepartmentAdmin(TreeAdmin):
    form = movenodeform_factory(Department, fields=["name", "code", "manager"])
    list_display = ["name", "code", "manager"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["manager"]
    inlines = [MembershipInline, VisibilityRuleInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        department_people_changed_on_commit(department_ids={form.instance.pk})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        department_people_changed_on_commit()


@admin.register(VisibilityRule)
class VisibilityRuleAdmin(admin.ModelAdmin):
    list_display = ["department", "kind", "seen", "include_subdepartments"]
    list_filter = ["kind"]
    filter_horizontal = ["targets"]
    autocomplete_fields = ["department"]

    @admin.display(description=_("departments seen"))
    def seen(self, rule):
        return ", ".join(d.name for d in rule.targets.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("department").prefetch_related("targets")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "title", "is_primary"]
    list_filter = ["department"]
    search_fields = ["user__username", "user__display_name", "department__name", "title"]
    autocomplete_fields = ["user", "department"]
    list_select_related = ["user", "department"]

    def save_model(self, request, obj, form, change):
        previous = form.initial.get("department")
        super().save_model(request, obj, form, change)
        department_people_changed_on_commit(department_ids={obj.department_id, previous} - {None})

    def delete_model(self, request, obj):
        department_id = obj.department_id
        super().delete_model(request, obj)
        department_people_changed_on_commit(department_ids={department_id})

    def delete_queryset(self, request, queryset):
        department_ids = set(queryset.values_list("department_id", flat=True))
        super().delete_queryset(request, queryset)
        department_people_changed_on_commit(department_ids=department_ids)


@admin.register(FriendRequest)
class FriendRequestAdmin(admin.ModelAdmin):
    list_display = ["from_user", "to_user", "status", "created_at", "responded_at"]
    list_filter = ["status"]
    search_fields = ["from_user__username", "to_user__username"]
    autocomplete_fields = ["from_user", "to_user"]
    list_select_related = ["from_user", "to_user"]


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["department"]
    fields = ["department", "title", "is_primary"]


# The person as the address book adds to them: their departments, and a page of their
# effective contacts and why.
admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    list_display = [*UserAdmin.list_display, "contacts_link"]
    inlines = [UserMembershipInline]

    def save_related(self, request, form, formsets, change):
        before = set(Membership.objects.filter(user=form.instance).values_list("department_id", flat=True))
        super().save_related(request, form, formsets, change)
        after = set(Membership.objects.filter(user=form.instance).values_list("department_id", flat=True))
        if before != after:
            department_people_changed_on_commit(department_ids=before ^ after)

    @admin.display(description=_("contacts"))
    def contacts_link(self, user):
        url = reverse("admin:accounts_user_contacts", args=[user.pk])
        return format_html('<a href="{}">{}</a>', url, _("Contacts and rules"))

    def get_urls(self):
        return [
            path(
                "<int:user_id>/contacts/",
                self.admin_site.admin_view(self.contacts_view),
                name="accounts_user_contacts",
            ),
        ] + super().get_urls()

    def contacts_view(self, request, user_id: int):
        """A person's effective contacts and, for a chosen colleague, why they may talk."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        subject = get_object_or_404(User, pk=user_id)
        contacts = [selectors.person_card(p) for p in selectors.contact_list_for_user(user=subject)]
        colleague = None
        explanation = None
        colleague_id = request.GET.get("colleague", "")
        if colleague_id.isdigit():
            colleague = User.objects.filter(pk=int(colleague_id)).first()
            if colleague is not None:
                explanation = policy.explain(subject, colleague)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Contacts of %(name)s") % {"name": subject.name},
            "subject": subject,
            "contacts": contacts,
            "grants": policy.get_policy().grants_for(subject),
            "colleagues": User.objects.exclude(pk=subject.pk).order_by("username"),
            "colleague": colleague,
            "explanation": explanation,
        }
        return TemplateResponse(request, "admin/accounts/user/contacts.html", context)
