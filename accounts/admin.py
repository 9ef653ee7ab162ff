from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from contacts import policy, selectors
from contacts.events import department_people_changed_on_commit
from contacts.models import Membership

from .models import User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["department"]
    fields = ["department", "title", "is_primary"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("Employee"),
            {"fields": ("display_name", "employee_number", "title", "phone", "avatar", "language")},
        ),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (_("Employee"), {"fields": ("display_name", "employee_number", "title", "email")}),
    )
    list_display = ["username", "display_name", "employee_number", "title", "is_active", "contacts_link"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email", "employee_number"]
    inlines = [MembershipInline]

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
