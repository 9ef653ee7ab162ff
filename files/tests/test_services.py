"""Uploads: membership, limits, the quota, the hash and the name, and what they count."""

from __future__ import annotations

import pytest

from files import services
from files.models import StoredFile
from core.errors import ApplicationError

from .conftest import metric, sha256, upload_of

pytestmark = pytest.mark.django_db


def files_on_disk(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def test_an_upload_is_kept_under_a_random_name_with_its_hash(demo, dev_room, media_root, django_capture_on_commit_callbacks):
    content = b"minutes of the stand-up\n" * 1000
    with django_capture_on_commit_callbacks(execute=True):
        stored = services.file_upload(
            user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(content, "stand-up.txt")
        )
    stored.refresh_from_db()
    assert (stored.name, stored.size, stored.content_type) == ("stand-up.txt", len(content), "text/plain")
    assert stored.sha256 == sha256(content)
    assert (stored.uploader, stored.conversation) == (demo["alice"], dev_room)
    assert stored.file.name.startswith(f"files/{stored.created_at:%Y/%m}/")
    assert "stand-up" not in stored.file.name
    with stored.file.open("rb") as handle:
        assert handle.read() == content


def test_a_file_larger_than_memory_uploads_is_hashed_in_chunks(demo, dev_room):
    from django.core.files.uploadedfile import TemporaryUploadedFile

    content = bytes(range(256)) * (3 * 2**20 // 256 + 7)  # past Django's 2.5 MB in-memory limit
    upload = TemporaryUploadedFile("big.bin", "application/octet-stream", len(content), None)
    upload.write(content)
    upload.seek(0)
    stored = services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload)
    upload.close()  # as the request's end would: the storage moved the temporary file
    assert (stored.size, stored.sha256) == (len(content), sha256(content))
    with stored.file.open("rb") as handle:
        assert handle.read() == content


@pytest.mark.parametrize(
    "given, kept",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\alice\\report.pdf", "report.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("line\nbreak\x00\x1b.txt", "linebreak.txt"),
        ("  spaced out.txt  ", "spaced out.txt"),
        ("季度报告.docx", "季度报告.docx"),
        ("..", "file"),
        ("/", "file"),
        ("", "file"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
        ("b" * 300, "b" * 255),
    ],
)
def test_names_lose_folders_and_control_characters(given, kept):
    assert services.file_name_clean(given) == kept


def test_the_stored_name_is_the_cleaned_one(demo, dev_room):
    stored = services.file_upload(
        user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b"x", "../secret\u202etxt.exe")
    )
    assert stored.name == "secrettxt.exe"


def test_a_made_up_content_type_is_dropped(demo, dev_room):
    stored = services.file_upload(
        user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b"x", content_type="text/html\r\nX-Evil: 1")
    )
    assert stored.content_type == ""


def test_empty_files_are_refused(demo, dev_room, media_root):
    with pytest.raises(ApplicationError) as error:
        services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b""))
    assert error.value.code == "invalid"
    with pytest.raises(ApplicationError) as error:
        services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=None)
    assert error.value.code == "invalid"
    assert not StoredFile.objects.exists() and not files_on_disk(media_root)


def test_files_over_the_limit_are_refused(demo, dev_room, settings, media_root):
    settings.FILE_MAX_BYTES = 10
    services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b"x" * 10))
    with pytest.raises(ApplicationError) as error:
        services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b"x" * 11))
    assert error.value.code == "too_large"
    assert StoredFile.objects.count() == 1 and len(files_on_disk(media_root)) == 1


def test_the_quota_counts_each_persons_files(demo, dev_room, settings, media_root):
    settings.FILE_QUOTA_BYTES = 10
    services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b"x" * 6))
    with pytest.raises(ApplicationError) as error:
        services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b"x" * 5))
    assert error.value.code == "too_large"
    assert error.value.extra["left"] == 4
    assert "4\xa0bytes" in str(error.value.detail)
    # What is left still fits, and someone else has a quota of their own.
    services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b"x" * 4))
    services.file_upload(user=demo["bob"], conversation_id=dev_room.pk, upload=upload_of(b"x" * 10))
    assert StoredFile.objects.count() == 3 and len(files_on_disk(media_root)) == 3


def test_only_members_who_may_write_can_upload(demo, dev_room, media_root):
    from contacts.models import FriendRequest
    from messaging.send import conversation_get_or_create_direct

    with pytest.raises(ApplicationError) as error:
        services.file_upload(user=demo["carol"], conversation_id=dev_room.pk, upload=upload_of(b"x"))
    assert error.value.code == "not_found"
    with pytest.raises(ApplicationError) as error:
        services.file_upload(user=demo["carol"], conversation_id="1", upload=upload_of(b"x"))
    assert error.value.code == "invalid"

    friendship = FriendRequest.objects.create(from_user=demo["alice"], to_user=demo["carol"], status="accepted")
    direct = conversation_get_or_create_direct(user=demo["alice"], other_id=demo["carol"].pk)
    services.file_upload(user=demo["carol"], conversation_id=direct.pk, upload=upload_of(b"x"))
    friendship.delete()
    # The rules no longer let them talk: the same check as a send.
    with pytest.raises(ApplicationError) as error:
        services.file_upload(user=demo["carol"], conversation_id=direct.pk, upload=upload_of(b"y"))
    assert error.value.code == "not_permitted"
    assert StoredFile.objects.count() == 1 and len(files_on_disk(media_root)) == 1


def test_uploaded_bytes_count_as_relayed(demo, dev_room, django_capture_on_commit_callbacks):
    before = metric("switchboard_relay_bytes_total")
    with django_capture_on_commit_callbacks(execute=True):
        services.file_upload(user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(b"x" * 1234))
    assert metric("switchboard_relay_bytes_total") - before == 1234
