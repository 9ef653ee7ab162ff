from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


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
    list_display = ["username", "display_name", "employee_number", "title", "is_active"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email", "employee_number"]
