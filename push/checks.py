"""The VAPID key and subject (``manage.py check``; every worker runs the checks as it starts)."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

from .keys import InvalidKey, vapid

SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://[^\s/]+(/\S*)?)$", re.IGNORECASE)
# Hosts no push service can reach; Apple's refuses a subject naming one (403 BadJwtToken).
UNREACHABLE = re.compile(r"(^|\.)(localhost|local|invalid|test|example|internal)$|^127\.|^\[?::1\]?$", re.IGNORECASE)


def _subject_host(subject: str) -> str:
    if subject.lower().startswith("mailto:"):
        return subject.rsplit("@", 1)[-1]
    return urlsplit(subject).hostname or ""


@register()
def vapid_key_check(app_configs, **kwargs) -> list[Error]:
    errors = []
    if not (settings.VAPID_PRIVATE_KEY or "").strip():
        errors.append(
            Error(
                "No VAPID key to sign Web Push requests: set VAPID_PRIVATE_KEY or VAPID_PRIVATE_KEY_FILE, "
                "or run `manage.py make_keys`.",
                hint=f"make_keys writes one to {settings.VAPID_PRIVATE_KEY_FILE}, where the settings read it.",
                id="push.E001",
            )
        )
    else:
        try:
            vapid()
        except InvalidKey as error:
            errors.append(
                Error(
                    f"VAPID_PRIVATE_KEY is {error}: give an ECDSA P-256 key, PEM or base64url.",
                    id="push.E002",
                )
            )
    if not SUBJECT.match(settings.VAPID_SUBJECT or ""):
        errors.append(
            Error(
                f"VAPID_SUBJECT {settings.VAPID_SUBJECT!r} is neither a mailto: nor an https: URI.",
                id="push.E003",
            )
        )
    return errors


@register(deploy=True)
def vapid_subject_deploy_check(app_configs, **kwargs) -> list[Warning]:
    subject = settings.VAPID_SUBJECT or ""
    if SUBJECT.match(subject) and UNREACHABLE.search(_subject_host(subject)):
        return [
            Warning(
                f"VAPID_SUBJECT {subject!r} names a host no push service can reach; Apple's refuses such pushes.",
                hint="Set VAPID_SUBJECT to the site's https: address or a mailto: address of whoever runs it.",
                id="push.W001",
            )
        ]
    return []
