"""Conversations and application-tagged messages: the database is the source of truth."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DIRECT = "direct", _("Direct")
        GROUP = "group", _("Group")
        DEPARTMENT = "department", _("Department")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200, blank=True)
    # "<smaller user id>:<larger user id>": one direct conversation per pair.
    direct_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    department = models.OneToOneField(
        "contacts.Department",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="conversation",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The seq of the newest message; incremented under a row lock, so seqs have no gaps.
    last_seq = models.PositiveBigIntegerField(_("last seq"), default=0)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True, db_index=True)
    # A group's notice, shown above its messages; set by its owner (created_by).
    notice = models.TextField(_("notice"), blank=True, default="")

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="direct") | Q(direct_key__isnull=False), name="direct_has_key"
            ),
            models.CheckConstraint(
                condition=~Q(kind="department") | Q(department__isnull=False),
                name="department_conversation_has_department",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} #{self.pk}"

    @staticmethod
    def direct_key_for(a_id: int, b_id: int) -> str:
        low, high = sorted((a_id, b_id))
        return f"{low}:{high}"


class ConversationMember(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("conversation")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversation_memberships",
        verbose_name=_("user"),
    )
    last_read_seq = models.PositiveBigIntegerField(_("read up to"), default=0)
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)
    # The member's own choices: a muted conversation notifies nobody (its unread count
    # still counts, shown quietly); pinned ones stand first in the inbox.
    muted = models.BooleanField(_("muted"), default=False)
    pinned_at = models.DateTimeField(_("pinned"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation member")
        verbose_name_plural = _("conversation members")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="conversation_member_unique")
        ]
        indexes = [models.Index(fields=["user", "conversation"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.conversation}"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation")
    )
    seq = models.PositiveBigIntegerField(_("seq"))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="messages_sent",
        verbose_name=_("sender"),
    )
    app = models.CharField(_("application"), max_length=32, default="chat", db_index=True)
    body = models.JSONField(_("body"), default=dict)
    client_id = models.CharField(_("client id"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    recalled_at = models.DateTimeField(_("recalled"), null=True, blank=True)
    # The ids of the members the message mentions (``@username``, ``@all``), parsed by
    # the server when it is stored (``messaging.mentions``); each also a MessageMention.
    mentions = models.JSONField(_("mentions"), default=list, blank=True)
    # The message of the same conversation this one answers (its quote travels with it).
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("reply to")
    )
    # A copy of a message from another conversation (``forward``): marked, not linked to
    # where it came from, which its new readers may not see.
    forwarded = models.BooleanField(_("forwarded"), default=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(fields=["sender", "client_id"], name="message_client_id_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.app} in {self.conversation_id} (seq {self.seq})"


class MessageMention(models.Model):
    """A member a message mentions: what the inbox counts, unread, per conversation."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mention_rows", verbose_name=_("message"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="+", verbose_name=_("conversation")
    )
    seq = models.PositiveBigIntegerField(_("seq"))

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="message_mention_unique")]
        indexes = [models.Index(fields=["user", "conversation", "seq"], name="mention_user_conv_seq")]

    def __str__(self) -> str:
        return f"{self.user_id} in #{self.message_id}"


class MessageReaction(models.Model):
    """One person's reaction to a message: one of the emoji of :data:`EMOJI`."""

    #: The reactions there are: a fixed, small set (docs/protocol.md), so that a message
    #: carries at most this many counts, and each one is an emoji every client draws.
    EMOJI = ("👍", "❤️", "😂", "🎉", "🙏", "👀", "✅", "😮", "😢", "🔥", "💯", "👏")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reaction_rows", verbose_name=_("message"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    emoji = models.CharField(_("emoji"), max_length=16)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [models.UniqueConstraint(fields=["message", "emoji", "user"], name="message_reaction_unique")]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on #{self.message_id}"


class Connection(models.Model):
    """One WebSocket connection: the paper's login registration of address and port."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections", verbose_name=_("user")
    )
    channel_name = models.CharField(_("channel"), max_length=200, unique=True)
    worker = models.CharField(_("worker"), max_length=200)
    remote_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    remote_port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    auth = models.CharField(_("authenticated by"), max_length=16)
    connected_at = models.DateTimeField(_("connected"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        ordering = ["-connected_at"]

    def __str__(self) -> str:
        return f"{self.user} from {self.remote_address}:{self.remote_port}"
