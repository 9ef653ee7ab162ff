"""Make the keys a site needs and does not have yet; reading the settings never does."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def secret_key() -> bytes:
    return secrets.token_urlsafe(64).encode()


def rsa_private_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ec_p256_private_key() -> bytes:
    """The VAPID key that signs Web Push requests: an ECDSA key on P-256 (RFC 8292)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def create(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path``, readable by its owner only, unless the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    return True


class Command(BaseCommand):
    help = (
        "Make the keys that neither the environment nor a file holds yet: the secret key "
        "(SECRET_KEY; else VAR_DIR/secret_key) and the RSA key that signs ID tokens "
        "(OIDC_RSA_PRIVATE_KEY or OIDC_RSA_PRIVATE_KEY_FILE; else VAR_DIR/oidc_rsa_key.pem) "
        "and the VAPID key that signs Web Push requests (VAPID_PRIVATE_KEY or VAPID_PRIVATE_KEY_FILE; "
        "else VAR_DIR/vapid_private_key.pem). "
        "Keys that exist are kept."
    )
    # The system checks refuse a site without its keys, which this command makes.
    requires_system_checks = []

    def handle(self, *args, **options):
        # A setting is None where the environment holds the key itself.
        wanted = [
            (settings.SECRET_KEY_FILE, secret_key),
            (settings.OIDC_RSA_PRIVATE_KEY_FILE, rsa_private_key),
            (settings.VAPID_PRIVATE_KEY_FILE, ec_p256_private_key),
        ]
        for path, make in wanted:
            if path is None or path.exists():
                continue
            if create(path, make()) and options["verbosity"] >= 1:
                self.stdout.write(f"Made {path}")
