"""The REST endpoints and the download: status codes, headers, bytes, and what they count."""

from __future__ import annotations


import pytest
from django.test import Client

from accounts.services import token_issue_for_user
from files.models import StoredFile

from .conftest import metric, sha256, upload_of

pytestmark = pytest.mark.django_db

CONTENT = b"<html><script>alert(1)</script></html>"


def upload(api, conversation, content=CONTENT, name="page.html", content_type="text/html"):
    return api.post(
        "/api/v1/files/", {"conversation": conversation.pk, "file": upload_of(content, name, content_type)}, format="multipart"
    )


def session_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_upload(demo, dev_room, api_for):
    response = upload(api_for(demo["alice"]), dev_room)
    assert response.status_code == 201, response.json()
    stored = StoredFile.objects.get()
    assert response.json() == {
        "id": stored.pk,
        "name": "page.html",
        "size": len(CONTENT),
        "type": "text/html",
        "sha256": sha256(CONTENT),
        "url": f"/files/{stored.pk}/",
        "width": None,
        "height": None,
        "thumbnail": None,
        "view": None,
    }


def test_upload_refusals(demo, dev_room, api_for, settings):
    from contacts.models import FriendRequest
    from messaging.send import conversation_get_or_create_direct

    alice = api_for(demo["alice"])
    settings.FILE_MAX_BYTES = len(CONTENT) - 1
    response = upload(alice, dev_room)
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    settings.FILE_MAX_BYTES = 2**20

    response = upload(api_for(demo["carol"]), dev_room)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")

    friendship = FriendRequest.objects.create(from_user=demo["alice"], to_user=demo["carol"], status="accepted")
    direct = conversation_get_or_create_direct(user=demo["alice"], other_id=demo["carol"].pk)
    friendship.delete()
    response = upload(api_for(demo["carol"]), direct)
    assert (response.status_code, response.json()["code"]) == (403, "not_permitted")

    response = upload(alice, dev_room, content=b"")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    response = alice.post("/api/v1/files/", {"file": upload_of(b"x")}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    response = alice.post("/api/v1/files/", {"conversation": dev_room.pk}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    response = alice.post("/api/v1/files/", {"conversation": dev_room.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert Client().post("/api/v1/files/").status_code == 401
    assert not StoredFile.objects.exists()


def test_quota_answer_says_what_is_left(demo, dev_room, api_for, settings):
    settings.FILE_QUOTA_BYTES = len(CONTENT) + 5
    alice = api_for(demo["alice"])
    assert upload(alice, dev_room).status_code == 201
    response = upload(alice, dev_room)
    assert (response.status_code, response.json()["code"], response.json()["left"]) == (413, "too_large", 5)
    assert "5\xa0bytes" in response.json()["detail"]


def test_members_download_the_exact_bytes_as_an_attachment(demo, dev_room, api_for):
    url = upload(api_for(demo["alice"]), dev_room).json()["url"]
    for username in ("alice", "bob", "dev_lead"):
        response = session_for(demo[username]).get(url)
        assert response.status_code == 200, username
        # Never the uploaded text/html: a browser must save it, not render it.
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"] == 'attachment; filename="page.html"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Length"] == str(len(CONTENT))
        assert body_of(response) == CONTENT


def test_bearer_tokens_download_too(demo, dev_room, api_for):
    url = upload(api_for(demo["alice"]), dev_room).json()["url"]
    token = token_issue_for_user(user=demo["bob"])["access_token"]
    response = Client().get(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/octet-stream"})
    assert response.status_code == 200
    assert body_of(response) == CONTENT


def test_anyone_else_finds_nothing(demo, dev_room, api_for):
    url = upload(api_for(demo["alice"]), dev_room).json()["url"]
    response = session_for(demo["carol"]).get(url)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    response = session_for(demo["alice"]).get("/files/999999/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert Client().get(url).status_code == 401


def test_unicode_names_survive_the_download(demo, dev_room, api_for):
    url = upload(api_for(demo["alice"]), dev_room, name="季度 报告.pdf").json()["url"]
    disposition = session_for(demo["bob"]).get(url)["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''%E5%AD%A3%E5%BA%A6%20%E6%8A%A5%E5%91%8A.pdf" in disposition


def test_relay_bytes_count_uploads_and_downloads(demo, dev_room, api_for, django_capture_on_commit_callbacks):
    before = metric("switchboard_relay_bytes_total")
    with django_capture_on_commit_callbacks(execute=True):
        url = upload(api_for(demo["alice"]), dev_room).json()["url"]
    assert metric("switchboard_relay_bytes_total") - before == len(CONTENT)
    body_of(session_for(demo["bob"]).get(url))
    assert metric("switchboard_relay_bytes_total") - before == 2 * len(CONTENT)


def test_admin_lists_files_without_changing_them(demo, dev_room, api_for):
    stored = StoredFile.objects.get(pk=upload(api_for(demo["alice"]), dev_room).json()["id"])
    admin = session_for(demo["admin"])
    page = admin.get("/admin/files/storedfile/")
    assert page.status_code == 200 and "page.html" in page.content.decode()
    assert admin.get("/admin/files/storedfile/add/").status_code == 403
    detail = admin.get(f"/admin/files/storedfile/{stored.pk}/change/")
    assert detail.status_code == 200 and stored.file.name not in detail.content.decode()
    assert admin.post(f"/admin/files/storedfile/{stored.pk}/delete/", {"post": "yes"}).status_code == 403
    assert StoredFile.objects.filter(pk=stored.pk).exists()


def test_download_query_count(demo, dev_room, api_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = upload(api_for(demo["alice"]), dev_room).json()["url"]
    bob = session_for(demo["bob"])
    # The session, its user, and the file checked against membership in one query.
    with CaptureQueriesContext(connection) as queries:
        assert body_of(bob.get(url)) == CONTENT
    assert len(queries) <= 3, [q["sql"] for q in queries]
