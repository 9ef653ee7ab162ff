import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _upload_to(instance: "StoredFile", filename: str) -> str:
    # A random name: the path on disk says nothing about the file and never collides; the
    # name people see is kept in ``name``.
    return f"files/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


def _made_upload_to(instance: "StoredFile", filename: str) -> str:
    # A random name too, with the extension of what was made (.webp, .jpg, .png).
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"files/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class StoredFile(models.Model):
    """A file someone sent to a conversation through the server (or archived there after
    sending it directly); served only to the conversation's members."""

    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploader"),
        db_index=False,  # the index in Meta, named
    )
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="+", verbose_name=_("conversation")
    )
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("type"), max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    file = models.FileField(_("file"), upload_to=_upload_to, max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # A picture (files.images): its size as shown, a thumbnail, and a copy to view at full
    # size, both without the original's metadata. Empty for any other file.
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    thumbnail = models.FileField(_("thumbnail"), upload_to=_made_upload_to, max_length=200, blank=True)
    view = models.FileField(_("full-size view"), upload_to=_made_upload_to, max_length=200, blank=True)

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")
        # The quota sums one person's files on every upload.
        indexes = [models.Index(fields=["uploader"], name="storedfile_uploader")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_picture(self) -> bool:
        return bool(self.thumbnail and self.view)
