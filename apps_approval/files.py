"""Downloading a request's attached files: only for the people involved, never inline."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from core.errors import ApplicationError

from .selectors import approval_file_get_for_user


@login_required
def download(request, file_id: int):
    try:
        stored = approval_file_get_for_user(user=request.user, file_id=file_id)
    except ApplicationError:
        raise Http404 from None
    response = FileResponse(stored.file.open("rb"), as_attachment=True, filename=stored.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
