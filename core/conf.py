"""Settings declared by the apps that read them.

An app lists its settings in its own ``conf.py`` as ``SETTINGS``: for each, its name, how
its environment variable is read, its default and one line saying what it does.
``imsite.settings`` reads every app's declarations from the environment, so code reads
them as ``django.conf.settings.NAME`` like any other setting, and tests override them the
same way. The settings import these modules before Django is set up, so a ``conf.py``
imports only this module and the standard library (and ``gettext_lazy`` for a default
that people read). Nothing here judges a value: an app's system checks do
(``manage.py check``, which every worker runs as it starts; see imsite.asgi).

A reader turns a variable's text (``None`` when it is unset) and the default into the
setting's value; the ``env_*`` helpers read one variable the same way, for the settings
that the site itself keeps (imsite/settings/).
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TRUE = {"1", "true", "yes", "on"}


def boolean(raw: str | None, default: bool) -> bool:
    """``1``, ``true``, ``yes`` or ``on``, in any case; unset or empty, the default."""
    return default if not raw else raw.strip().lower() in TRUE


def integer(raw: str | None, default: int) -> int:
    """A whole number; unset or empty, the default."""
    return int(raw) if raw else default


def number(raw: str | None, default: float) -> float:
    """A number; unset or empty, the default."""
    return float(raw) if raw else default


def text(raw: str | None, default: str) -> str:
    """The text as it is; unset, the default."""
    return default if raw is None else raw


def stripped(raw: str | None, default: str) -> str:
    """The text without surrounding spaces; unset, the default."""
    return default if raw is None else raw.strip()


def items(raw: str | None, default: list[str]) -> list[str]:
    """Items separated by commas; unset, the default, and empty, none at all."""
    return default if raw is None else [item.strip() for item in raw.split(",") if item.strip()]


class Unparsed(str):
    """A variable's text that did not parse. The setting keeps it, so that importing the
    settings never fails on it and the app's system check can say what is wrong."""

    error: str

    def __new__(cls, raw: str, error: Exception | str) -> Unparsed:
        value = super().__new__(cls, raw)
        value.error = str(error)
        return value


def json_value(raw: str | None, default: Any) -> Any:
    """JSON; unset or blank, the default; text that is not JSON stays :class:`Unparsed`."""
    raw = (raw or "").strip()
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError as error:
        return Unparsed(raw, error)


@dataclass(frozen=True)
class Setting:
    """One setting of an app, set by one environment variable."""

    name: str
    read: Callable[[str | None, Any], Any]
    default: Any
    doc: str
    # The environment variable, when it is not named like the setting.
    env: str = ""

    @property
    def variable(self) -> str:
        return self.env or self.name

    def value(self, environ: Mapping[str, str] = os.environ) -> Any:
        # A copy, so that a list default is never shared with the declaration.
        return self.read(environ.get(self.variable), copy.deepcopy(self.default))


def declarations(apps: Iterable[str]) -> list[Setting]:
    """What the ``conf`` modules of ``apps`` (packages of ours) declare, in order."""
    found: list[Setting] = []
    for app in apps:
        if importlib.util.find_spec(f"{app}.conf") is not None:
            found.extend(getattr(importlib.import_module(f"{app}.conf"), "SETTINGS", ()))
    return found


def declared_settings(apps: Iterable[str], environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Every setting that ``apps`` declare, read from ``environ``."""
    values: dict[str, Any] = {}
    for setting in declarations(apps):
        if setting.name in values:
            raise ValueError(f"The setting {setting.name} is declared twice.")
        values[setting.name] = setting.value(environ)
    return values


def env_bool(name: str, default: bool = False) -> bool:
    return boolean(os.environ.get(name), default)


def env_int(name: str, default: int) -> int:
    return integer(os.environ.get(name), default)


def env_list(name: str, default: str = "") -> list[str]:
    """Comma-separated items; ``default`` is the text used when the variable is unset."""
    return items(os.environ.get(name, default), [])
