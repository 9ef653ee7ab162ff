from django.contrib import admin

from .models import Connection, Conversation, ConversationMember, Message


class ConversationMemberInline(admin.TabularInline):
    """Members are shown, not edited: direct conversations belong to their two people and
    department conversations follow the address book."""

    model = ConversationMember
    extra = 0
    can_delete = False
    fields = ["user", "last_read_seq", "joined_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


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

    def has_delete_permission(self, request, obj=None):
        # Deleting would leave a gap in the conversation's seqs; senders recall instead.
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
