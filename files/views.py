"""Downloading a file sent through the server: members of its conversation only, never
inline; and a picture's thumbnail and full-size copy (made by files.images, without the
original's metadata), inline, to the same people."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, Http404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from messaging import metrics

from .images import content_type_of
from .selectors import stored_file_get_for_user

BLOCK_SIZE = 256 * 1024


def _chunks(handle):
    while chunk := handle.read(BLOCK_SIZE):
        metrics.RELAY_BYTES.inc(len(chunk))
        yield chunk


async def _achunks(handle):
    read = sync_to_async(handle.read, thread_sensitive=False)
    while chunk := await read(BLOCK_SIZE):
        metrics.RELAY_BYTES.inc(len(chunk))
        yield chunk


class FileDownloadView(APIView):
    """The file's bytes as an attachment, for a browser session (an ``<a download>`` link)
    or a Bearer token. Anyone outside the conversation gets 404, as for a file that does
    not exist."""

    def perform_content_negotiation(self, request, force=False):
        # A download answers any Accept header; errors still come as JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="file_download",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file's bytes."),
        },
    )
    def get(self, request, file_id: int):
        stored = stored_file_get_for_user(user=request.user, file_id=file_id)
        handle = stored.file.open("rb")
        # Never the uploaded type: the bytes are only ever saved, never shown or sniffed.
        response = FileResponse(
            handle, as_attachment=True, filename=stored.name, content_type="application/octet-stream"
        )
        return _streamed(request, response, handle)


def _streamed(request, response: FileResponse, handle) -> FileResponse:
    # Under ASGI (Daphne) a synchronous body would be read into memory whole before the
    # first byte goes out; an asynchronous one streams.
    asgi = isinstance(request._request, ASGIRequest)
    response.streaming_content = _achunks(handle) if asgi else _chunks(handle)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class _PictureView(APIView):
    """One of a picture's made files, inline, as the image type it was saved as. Members
    of its conversation only (404 for anyone else, and for a file that is no picture)."""

    part = ""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def get(self, request, file_id: int):
        stored = stored_file_get_for_user(user=request.user, file_id=file_id)
        made = getattr(stored, self.part)
        if not stored.is_picture or not made:
            raise Http404
        handle = made.open("rb")
        response = FileResponse(handle, content_type=content_type_of(made.name))
        # Inline, named after the file as people know it; the bytes never change.
        response["Content-Disposition"] = content_disposition_header(False, stored.name)
        response["Cache-Control"] = "private, max-age=86400"
        return _streamed(request, response, handle)


_PICTURE_RESPONSES = {
    (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY, description="The picture."),
    (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The picture."),
    (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The picture."),
}


class FileThumbnailView(_PictureView):
    """A picture's thumbnail (WebP, at most 480 by 480 pixels)."""

    part = "thumbnail"

    @extend_schema(operation_id="file_thumbnail", responses=_PICTURE_RESPONSES)
    def get(self, request, file_id: int):
        return super().get(request, file_id)


class FilePictureView(_PictureView):
    """A picture at full size, upright, without its metadata (JPEG, PNG or WebP)."""

    part = "view"

    @extend_schema(operation_id="file_view", responses=_PICTURE_RESPONSES)
    def get(self, request, file_id: int):
        return super().get(request, file_id)
