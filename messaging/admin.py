from django.contrib import admin

from .models import Connection, Conversation, ConversationMember, Message


class ConversationMemberInline(admin.TabularInline):
    model = ConversationMember
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["last_read_seq", "joined_at"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "department", "last_seq", "last_message_at"]
    list_filter = ["kind"]
    search_fields = ["title"]
    readonly_fields = ["kind", "direct_key", "department", "last_seq", "last_message_at", "created_by", "created_at"]
    inlines = [ConversationMemberInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "seq", "sender", "app", "created_at", "recalled_at"]
    list_filter = ["app"]
    search_fields = ["client_id", "sender__username"]
    list_select_related = ["conversation", "sender"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """Each WebSocket connection with the address and port it came from."""

    list_display = ["user", "remote_address", "remote_port", "worker", "auth", "connected_at", "closed_at"]
    list_filter = ["worker", "auth", ("closed_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "remote_address", "worker"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Connection._meta.fields]

    def has_add_permission(self, request):
        return False
