from django.contrib import admin

from .models import StoredFile


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin):
    """Files are what people sent each other: shown, never changed here."""

    list_display = ["name", "uploader", "conversation", "size", "created_at"]
    list_select_related = ["uploader", "conversation"]
    search_fields = ["name", "uploader__username", "sha256"]
    date_hierarchy = "created_at"
    # The stored path is left out: files are served only through the members-only download.
    fields = ["uploader", "conversation", "name", "size", "content_type", "sha256", "width", "height", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
