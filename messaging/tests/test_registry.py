"""The app handler registry: each app's label, and previews made with it in the reader's language."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from messaging.registry import AppHandler, app_handlers, app_label, message_preview, register_app_handler


def message(app: str, body: dict) -> SimpleNamespace:
    return SimpleNamespace(app=app, body=body, recalled_at=None)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def poll():
    class PollHandler(AppHandler):
        app = "poll_test"
        label = gettext_lazy("Messages")  # any string the catalogue has

    handler = register_app_handler(PollHandler())
    yield handler
    app_handlers.unregister("poll_test")


def test_every_registered_app_has_a_label_in_the_readers_language():
    assert {"chat", "file", "approval", "attendance", "announcement", "notice"} <= set(app_handlers.keys())
    english = {app: app_label(app) for app in app_handlers.keys()}
    assert english["approval"] == "Approval" and english["file"] == "File"
    with translation.override("zh-hans"):
        chinese = {app: app_label(app) for app in app_handlers.keys()}
    assert chinese["approval"] == "审批" and chinese["file"] == "文件" and chinese["notice"] == "通知"
    # Nothing a reader sees stays English, for any built-in app.
    builtin = ("chat", "file", "approval", "attendance", "announcement", "notice")
    assert all(chinese[app] != english[app] for app in builtin)


def test_a_preview_puts_the_label_before_the_text_at_read_time(poll):
    msg = message("poll_test", {"title": "  Lunch?  "})
    assert message_preview(msg) == "[Messages] Lunch?"
    with translation.override("zh-hans"):
        assert message_preview(msg) == "[消息] Lunch?"


def test_a_handler_without_a_label_and_an_unknown_app_show_their_key():
    class Bare(AppHandler):
        app = "bare_test"

    register_app_handler(Bare())
    try:
        assert message_preview(message("bare_test", {"text": "hi"})) == "[bare_test] hi"
    finally:
        app_handlers.unregister("bare_test")
    assert app_label("nobody_test") == "nobody_test"
    assert message_preview(message("nobody_test", {"name": "x"})) == "[nobody_test] x"
    assert message_preview(message("nobody_test", {})) == "“nobody_test” message"


def test_a_file_previews_its_name_after_its_label():
    with translation.override("zh-hans"):
        assert message_preview(message("file", {"name": "report.pdf", "size": 1})) == "[文件] report.pdf"
