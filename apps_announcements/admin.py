from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Announcement, Recipient


class RecipientInline(admin.TabularInline):
    """Who got it, read it and confirmed it: receipts are shown, never edited."""

    model = Recipient
    extra = 0
    can_delete = False
    fields = ["user", "delivered_at", "read_at", "confirmed_at"]
    readonly_fields = fields
    ordering = ["user__username"]
    verbose_name = _("receipt")
    verbose_name_plural = _("receipts")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """Announcements are published through the app, which renders the body and delivers
    it; here an administrator may only unpin one or change its expiry."""

    list_display = ["title", "author", "created_at", "audience_size", "pinned", "requires_confirmation", "expires_at", "delivered_at"]
    list_filter = ["pinned", "requires_confirmation"]
    search_fields = ["title", "author__username", "author__display_name"]
    list_select_related = ["author"]
    date_hierarchy = "created_at"
    fields = [
        "title", "author", "audience", "body", "pinned", "requires_confirmation", "expires_at",
        "audience_size", "created_at", "delivered_at", "client_id",
    ]
    readonly_fields = [
        "title", "author", "audience", "body", "requires_confirmation", "audience_size", "created_at",
        "delivered_at", "client_id",
    ]
    inlines = [RecipientInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
