"""Pictures among uploads: thumbnails and full-size copies made on the server, upright
and without the original's metadata, bounded in what they decode, served to members only."""

from __future__ import annotations

import io
import struct
import uuid
import zlib

import pytest
from django.test import Client
from PIL import Image

from files import services
from files.models import StoredFile
from messaging.send import message_send

from .conftest import upload_of

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_from_a_phone(width=200, height=100) -> bytes:
    """A JPEG as a phone saves it: pixels stored sideways with EXIF orientation 6 (turn 90°
    clockwise to show), the camera's make and where it was taken."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    # A red left half: after turning clockwise, the red is at the top.
    image.paste((255, 0, 0), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95, comment=b"secret comment")
    return out.getvalue()


def png_bytes(size=(64, 48), mode="RGBA", color=(0, 128, 255, 100)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: decoded, it would take gigabytes."""
    data = bytearray(png_bytes((1, 1), "L", 0))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def session_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def upload(user, conversation, content, name, content_type="image/jpeg") -> StoredFile:
    return services.file_upload(user=user, conversation_id=conversation.pk, upload=upload_of(content, name, content_type))


def test_a_photo_gets_an_upright_thumbnail_and_view_without_its_metadata(demo, dev_room):
    original = jpeg_from_a_phone()
    assert b"PhoneMaker" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    stored = upload(demo["alice"], dev_room, original, "IMG_0001.jpg")
    # Shown as the phone meant: 100 wide, 200 high.
    assert (stored.width, stored.height) == (100, 200)

    bob = session_for(demo["bob"])
    response = bob.get(f"/files/{stored.pk}/thumbnail/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    thumbnail_bytes = body_of(response)
    thumbnail = opened(thumbnail_bytes)
    assert thumbnail.format == "WEBP" and thumbnail.size == (100, 200)
    assert thumbnail.getpixel((50, 20))[0] > 200 and thumbnail.getpixel((50, 20))[1] < 60  # red on top
    assert thumbnail.getpixel((50, 180))[1] > 200  # white below
    assert not thumbnail.getexif() and "exif" not in thumbnail.info and "icc_profile" not in thumbnail.info

    response = bob.get(f"/files/{stored.pk}/view/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline") and "IMG_0001.jpg" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    view_bytes = body_of(response)
    view = opened(view_bytes)
    assert view.size == (100, 200)
    assert not view.getexif() and "exif" not in view.info and "comment" not in view.info
    for made in (thumbnail_bytes, view_bytes):
        assert b"PhoneMaker" not in made and b"Exif" not in made and b"secret comment" not in made

    # The download is still the original, as an attachment.
    response = bob.get(f"/files/{stored.pk}/")
    assert response["Content-Disposition"].startswith("attachment")
    assert body_of(response) == original


def test_the_upload_answer_describes_the_picture(demo, dev_room, api_for):
    response = api_for(demo["alice"]).post(
        "/api/v1/files/",
        {"conversation": dev_room.pk, "file": upload_of(jpeg_from_a_phone(), "photo.jpg", "image/jpeg")},
        format="multipart",
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["width"], data["height"]) == (100, 200)
    assert data["thumbnail"] == f"/files/{data['id']}/thumbnail/"
    assert data["view"] == f"/files/{data['id']}/view/"


@pytest.mark.parametrize(
    "content, name, kind, view_type",
    [
        (png_bytes(), "clear.png", "PNG", "image/png"),
        (png_bytes((64, 48), "RGB", (1, 2, 3)), "flat", "PNG", "image/png"),
        (None, "moving.gif", "GIF", "image/png"),
        (None, "picture.webp", "WEBP", "image/webp"),
    ],
)
def test_png_gif_and_webp_by_their_content(demo, dev_room, content, name, kind, view_type):
    if content is None:
        out = io.BytesIO()
        frames = [Image.new("P", (40, 30), i) for i in (1, 2, 3)]
        if kind == "GIF":
            frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
        else:
            exif = Image.Exif()
            exif[0x010F] = "PhoneMaker"
            Image.new("RGB", (40, 30), (9, 9, 9)).save(out, "WEBP", exif=exif)
        content = out.getvalue()
    # Whatever the browser says the type is.
    stored = upload(demo["alice"], dev_room, content, name, "application/octet-stream")
    assert stored.is_picture and stored.width and stored.height
    response = session_for(demo["bob"]).get(f"/files/{stored.pk}/view/")
    assert response["Content-Type"] == view_type
    made = body_of(response)
    view = opened(made)
    assert view.size == (stored.width, stored.height) and not view.getexif() and b"PhoneMaker" not in made


def test_a_cameras_multi_picture_jpeg_shows_its_first_picture(demo, dev_room):
    out = io.BytesIO()
    first, second = Image.new("RGB", (60, 40), (200, 0, 0)), Image.new("RGB", (60, 40), (0, 0, 200))
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    stored = upload(demo["alice"], dev_room, out.getvalue(), "DSC0001.JPG")
    assert stored.is_picture and (stored.width, stored.height) == (60, 40)
    response = session_for(demo["bob"]).get(f"/files/{stored.pk}/view/")
    assert response["Content-Type"] == "image/jpeg"
    assert opened(body_of(response)).getpixel((30, 20))[0] > 150


def test_a_picture_that_fails_to_convert_is_still_kept(demo, dev_room, monkeypatch):
    from files import images

    monkeypatch.setattr(images, "_made", lambda image, kind: 1 / 0)
    stored = upload(demo["alice"], dev_room, jpeg_from_a_phone(), "photo.jpg")
    assert not stored.is_picture and stored.size > 0


def test_something_else_named_jpg_is_an_ordinary_file(demo, dev_room):
    stored = upload(demo["alice"], dev_room, b"<html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg")
    assert not stored.is_picture and stored.width is None
    bob = session_for(demo["bob"])
    assert bob.get(f"/files/{stored.pk}/thumbnail/").status_code == 404
    assert bob.get(f"/files/{stored.pk}/view/").status_code == 404
    assert bob.get(f"/files/{stored.pk}/").status_code == 200


def test_an_svg_or_a_broken_picture_is_an_ordinary_file(demo, dev_room):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    assert not upload(demo["alice"], dev_room, svg, "x.svg", "image/svg+xml").is_picture
    broken = jpeg_from_a_phone()[:200]
    assert not upload(demo["alice"], dev_room, broken, "cut.jpg").is_picture


def test_a_decompression_bomb_is_not_decoded(demo, dev_room):
    bomb = png_claiming(60_000, 60_000)  # 3.6 billion pixels in under 100 bytes
    assert len(bomb) < 100
    stored = upload(demo["alice"], dev_room, bomb, "bomb.png", "image/png")
    assert not stored.is_picture and not stored.thumbnail and not stored.view
    assert session_for(demo["bob"]).get(f"/files/{stored.pk}/thumbnail/").status_code == 404


def test_a_picture_over_the_pixel_limit_gets_no_thumbnail(demo, dev_room, settings):
    settings.FILE_IMAGE_MAX_PIXELS = 64 * 48 - 1
    assert not upload(demo["alice"], dev_room, png_bytes(), "big.png").is_picture
    settings.FILE_IMAGE_MAX_PIXELS = 64 * 48
    assert upload(demo["alice"], dev_room, png_bytes(), "fits.png").is_picture


def test_thumbnails_fit_into_480_pixels(demo, dev_room):
    out = io.BytesIO()
    Image.new("RGB", (1600, 900), (10, 200, 10)).save(out, "JPEG")
    stored = upload(demo["alice"], dev_room, out.getvalue(), "wide.jpg")
    assert (stored.width, stored.height) == (1600, 900)
    thumbnail = opened(body_of(session_for(demo["bob"]).get(f"/files/{stored.pk}/thumbnail/")))
    assert thumbnail.size == (480, 270)


def test_only_members_see_a_picture(demo, dev_room):
    stored = upload(demo["alice"], dev_room, jpeg_from_a_phone(), "photo.jpg")
    carol = session_for(demo["carol"])
    for path in ("", "thumbnail/", "view/"):
        assert carol.get(f"/files/{stored.pk}/{path}").status_code == 404
        assert Client().get(f"/files/{stored.pk}/{path}").status_code in (401, 403)
        assert session_for(demo["bob"]).get(f"/files/{stored.pk}/{path}").status_code == 200
    assert session_for(demo["bob"]).get("/files/999999/thumbnail/").status_code == 404


def test_the_file_message_of_a_picture_carries_its_size_and_paths(demo, dev_room):
    stored = upload(demo["alice"], dev_room, jpeg_from_a_phone(), "photo.jpg")
    body = {
        "name": "photo.jpg", "size": stored.size, "type": "image/jpeg", "sha256": stored.sha256, "transport": "relay",
        "file": stored.pk, "width": 9999, "height": 1, "thumbnail": "https://evil.example/x.png", "view": "//evil.example/",
    }
    message = message_send(
        sender=demo["alice"], client_id=str(uuid.uuid4()), app="file", conversation_id=dev_room.pk, body=body
    ).message
    assert message.body["width"] == 100 and message.body["height"] == 200
    assert message.body["thumbnail"] == f"/files/{stored.pk}/thumbnail/"
    assert message.body["view"] == f"/files/{stored.pk}/view/"


def test_a_direct_file_claims_no_picture(demo, dev_room):
    body = {
        "name": "photo.jpg", "size": 10, "type": "image/jpeg", "sha256": "0" * 64, "transport": "p2p",
        "width": 10, "height": 10, "thumbnail": "/files/1/thumbnail/", "view": "/files/1/view/",
    }
    message = message_send(
        sender=demo["alice"], client_id=str(uuid.uuid4()), app="file", conversation_id=dev_room.pk, body=body
    ).message
    assert not {"width", "height", "thumbnail", "view"} & set(message.body)


def test_a_refused_upload_leaves_no_made_files_behind(demo, dev_room, monkeypatch, media_root):
    def refuse(self, *args, **kwargs):
        raise RuntimeError("refused")

    monkeypatch.setattr(StoredFile, "save", refuse)
    with pytest.raises(RuntimeError):
        upload(demo["alice"], dev_room, jpeg_from_a_phone(), "photo.jpg")
    assert not [path for path in media_root.rglob("*") if path.is_file()]
