"""The search index: one document per searchable message.

The model holds what both databases keep: the filters' columns, the text readers see (for
the highlighted snippet) and its words as the segmenter cut them (``terms``). The full-text
index over ``terms`` is each database's own (migration 0002): on PostgreSQL a generated
``tsvector`` column with a GIN index, on SQLite an FTS5 table kept by triggers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageDocument(models.Model):
    message = models.OneToOneField(
        "messaging.Message", primary_key=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("message")
    )
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="+", db_index=False,
        verbose_name=_("conversation"),
    )  # fmt: skip
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("sender")
    )
    created_at = models.DateTimeField(_("created"))
    has_file = models.BooleanField(_("has a file"), default=False)
    has_link = models.BooleanField(_("has a link"), default=False)
    # What readers see of the message, without Markdown (AppHandler.search_text).
    text = models.TextField(_("text"), blank=True)
    # Its words, cut by the segmenter and lowercased, separated by spaces (search.text).
    terms = models.TextField(_("terms"), blank=True)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        indexes = [
            models.Index(fields=["conversation", "-created_at"], name="search_doc_conv_created"),
            models.Index(fields=["sender", "-created_at"], name="search_doc_sender_created"),
            models.Index(fields=["-created_at", "-message"], name="search_doc_created"),
        ]

    def __str__(self) -> str:
        return f"search document of #{self.message_id}"
