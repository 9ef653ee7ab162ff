"""The site's own views: the CSRF failure page."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def refused(client: Client, path: str, **headers):
    """POST a form without its CSRF token, as a page left open too long does."""
    response = client.post(path, {"username": "alice", "password": "x"}, **headers)
    assert response.status_code == 403
    return response, response.content.decode()


def test_a_csrf_failure_is_a_page_of_the_site_with_a_way_back():
    client = Client(enforce_csrf_checks=True)
    response, html = refused(client, LOGIN, HTTP_REFERER=f"http://testserver{LOGIN}?next=/chat/")
    assert [t.name for t in response.templates][:2] == ["403_csrf.html", "base.html"]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "switchboard.css" in html and '<main class="page">' in html
    assert 'data-testid="csrf-failure"' in html
    assert "The form could not be sent" in html
    assert "open for a long time" in html and "blocks cookies" in html
    assert "Go back, reload the page and try again." in html
    # Back where the form was, and to the sign-in page for someone not signed in.
    assert f'href="{LOGIN}?next=/chat/" data-testid="csrf-back"' in html
    assert f'href="{LOGIN}" data-testid="csrf-sign-in"' in html
    # None of Django's debugging text.
    assert "CSRF verification failed" not in html and "CSRF_FAILURE_VIEW" not in html


def test_a_csrf_failure_leads_nowhere_off_the_site():
    client = Client(enforce_csrf_checks=True)
    for referer in ("https://evil.example/phish", "javascript:alert(1)", ""):
        _response, html = refused(client, LOGIN, HTTP_REFERER=referer)
        assert 'data-testid="csrf-back"' not in html and "evil.example" not in html, referer
        assert f'href="{LOGIN}" data-testid="csrf-sign-in"' in html


def test_a_signed_in_person_gets_the_page_with_the_site_around_it(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo["alice"])
    response, html = refused(client, "/attendance/check-in/", HTTP_REFERER="http://testserver/attendance/")
    assert 'class="topbar"' in html and "Sign out" in html
    assert 'href="/attendance/" data-testid="csrf-back"' in html
    assert 'href="/" data-testid="csrf-home"' in html and 'data-testid="csrf-sign-in"' not in html


def test_the_csrf_failure_page_speaks_the_readers_language():
    client = Client(enforce_csrf_checks=True)
    _response, html = refused(client, LOGIN, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert 'lang="zh-hans"' in html
    assert "表单未能提交" in html and "登录" in html
    assert "没有保存任何内容" in html and "阻止了本站的 Cookie" in html and "刷新后再试一次" in html
    assert "The form could not be sent" not in html and "cookies" not in html
    _response, html = refused(client, LOGIN, HTTP_ACCEPT_LANGUAGE="zh-CN", HTTP_REFERER=f"http://testserver{LOGIN}")
    assert "返回上一页" in html
