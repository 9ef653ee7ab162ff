"""Downloading a file sent through the server: members of its conversation only, never inline."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from messaging import metrics

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
        # Under ASGI (Daphne) a synchronous body would be read into memory whole before the
        # first byte goes out; an asynchronous one streams.
        asgi = isinstance(request._request, ASGIRequest)
        response.streaming_content = _achunks(handle) if asgi else _chunks(handle)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
