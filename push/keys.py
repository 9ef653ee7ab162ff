"""The site's VAPID key (RFC 8292): it signs every push, and its public half is what a
browser subscribes with (``applicationServerKey``)."""

from __future__ import annotations

import base64
import functools

from django.conf import settings


class InvalidKey(ValueError):
    pass


@functools.cache
def _vapid(text: str):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from py_vapid import Vapid

    text = text.strip()
    if not text:
        raise InvalidKey("no key")
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
            vapid = Vapid(key)
        else:
            # The base64url raw (32 bytes) or DER form, as py-vapid reads it.
            vapid = Vapid.from_string(text)
    except Exception as error:
        raise InvalidKey(f"not a key py-vapid reads ({error.__class__.__name__})") from None
    if not isinstance(vapid.private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        vapid.private_key.curve, ec.SECP256R1
    ):
        raise InvalidKey("not an ECDSA key on P-256")
    return vapid


def vapid():
    """The key as py-vapid's ``Vapid``, which signs the ``Authorization`` header."""
    return _vapid(settings.VAPID_PRIVATE_KEY or "")


def public_key() -> str:
    """The public key as browsers take it: the uncompressed P-256 point, base64url, unpadded."""
    from cryptography.hazmat.primitives import serialization

    raw = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
