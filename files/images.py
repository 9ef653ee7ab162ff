"""Pictures among uploaded files: a thumbnail to show in the chat and a copy to view at full
size, both decoded and encoded again so that nothing of the original but its pixels is
kept (no EXIF, GPS position, camera, comments or colour profile).

A file is a picture when Pillow reads it as JPEG, PNG, GIF or WebP, whatever its name or
the type the browser named. Decoding is bounded: a picture of more than
``FILE_IMAGE_MAX_PIXELS`` pixels (a "decompression bomb" of a few kilobytes can claim
billions) is not decoded at all and stays an ordinary file, as does anything Pillow
cannot read.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

#: The formats taken as pictures (a GIF or WebP shows its first frame).
FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
#: A thumbnail fits into this square, in pixels.
THUMBNAIL_SIZE = 480
#: The copy viewed at full size: the original's kind where it can hold the picture.
VIEW_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "GIF": "PNG", "WEBP": "WEBP"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True)
class Picture:
    """What was made of a picture: its size as shown (orientation applied), the
    thumbnail and the full-size copy, each a ContentFile named with its extension."""

    width: int
    height: int
    thumbnail: ContentFile
    view: ContentFile


def content_type_of(name: str) -> str:
    """The type to serve a made file with, by the extension it was saved with."""
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def picture_make(handle) -> Picture | None:
    """The thumbnail and full-size copy of the picture in ``handle`` (an open binary file,
    read from its start), or None when it is not a picture this reads, or is too large
    to decode."""
    limit = settings.FILE_IMAGE_MAX_PIXELS
    try:
        handle.seek(0)
        with warnings.catch_warnings():
            # Pillow's own guard warns past its MAX_IMAGE_PIXELS; a warning is a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(_Borrowed(handle), formats=sorted(FORMATS)) as image:
                # The header says how large it is; nothing has been decoded yet.
                width, height = image.size
                if width < 1 or height < 1 or width * height > limit:
                    logger.info("Not decoding a %dx%d picture (over %d pixels).", width, height, limit)
                    return None
                # A camera's JPEG with more pictures in it (MPO) shows its first, as JPEG.
                kind = "JPEG" if image.format == "MPO" else image.format
                if kind not in VIEW_FORMATS:
                    return None
                image.seek(0)
                image.load()
                return _made(image, kind)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # Not a picture, a damaged one, or one Pillow refuses: an ordinary file.
        logger.info("No thumbnail for an upload: %s", e)
        return None
    except Exception:
        # Whatever else goes wrong with a picture, the file itself is still kept.
        logger.exception("No thumbnail for an upload that looked like a picture.")
        return None
    finally:
        handle.seek(0)


class _Borrowed:
    """The upload as Pillow may read it: closing the image leaves the upload open."""

    def __init__(self, handle) -> None:
        self._handle = handle

    def read(self, *args):
        return self._handle.read(*args)

    def seek(self, *args):
        return self._handle.seek(*args)

    def tell(self):
        return self._handle.tell()

    def close(self) -> None:
        pass


def _made(image: Image.Image, kind: str) -> Picture:
    upright = ImageOps.exif_transpose(image)  # a copy, turned as the camera meant
    image.close()  # one full-size copy in memory at a time, as far as possible
    transparent = upright.mode in {"RGBA", "LA", "PA"} or (
        upright.mode == "P" and "transparency" in upright.info
    )
    mode = "RGBA" if transparent else "RGB"
    pixels = upright if upright.mode == mode else upright.convert(mode)
    if pixels is not upright:
        upright.close()
    # Nothing of the original's info (EXIF, XMP, ICC profile, comments) may travel on
    # into what is saved; the encoders below are given none either.
    pixels.info.clear()
    view_kind = VIEW_FORMATS[kind]
    if view_kind == "JPEG" and transparent:
        view_kind = "PNG"
    small = pixels.copy()
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    return Picture(
        width=pixels.width,
        height=pixels.height,
        thumbnail=_encoded(small, "WEBP", quality=82),
        view=_encoded(pixels, view_kind, quality=90),
    )


def _encoded(image: Image.Image, kind: str, *, quality: int) -> ContentFile:
    out = io.BytesIO()
    if kind == "JPEG":
        image.save(out, "JPEG", quality=quality, optimize=True)
    elif kind == "WEBP":
        image.save(out, "WEBP", quality=quality, method=4)
    else:
        image.save(out, "PNG", optimize=False)
    return ContentFile(out.getvalue(), name=f"picture.{EXTENSIONS[kind]}")
