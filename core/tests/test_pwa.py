"""The installable app (core.pwa, docs/mobile.md): the web app manifest, its icons, the
service worker and the offline page it keeps, and the tags every page carries."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
from django.urls import reverse
from PIL import Image

from core import pwa
from core.templatetags import modules

pytestmark = pytest.mark.django_db

CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "switchboard.css"


def static_file(url: str) -> Path:
    """The file behind one of the site's static URLs."""
    assert url.startswith(staticfiles_storage.base_url), url
    found = finders.find(url.removeprefix(staticfiles_storage.base_url))
    assert found, f"no static file at {url}"
    return Path(found)


def css_variable(name: str) -> str:
    return re.search(rf"--{name}:\s*(#[0-9a-f]+);", CSS.read_text()).group(1)


def manifest(client: Client, **headers) -> dict:
    response = client.get("/manifest.webmanifest", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    return json.loads(response.content)


@pytest.fixture
def person(django_user_model):
    return django_user_model.objects.create_user("pat", password="x", display_name="Pat Example")


# --- The manifest -------------------------------------------------------------------


def test_the_manifest_describes_an_installable_app_and_needs_no_sign_in():
    data = manifest(Client())
    assert data["name"] == "Switchboard" and data["short_name"] == "Switchboard"
    assert data["description"].startswith("Office messaging")
    assert data["id"] == data["start_url"] == reverse("chat") == "/chat/"
    assert data["scope"] == "/"
    assert data["display"] == "standalone"
    assert (data["lang"], data["dir"]) == ("en", "ltr")
    assert data["shortcuts"] == [
        {"name": "Chat", "url": "/chat/"},
        {"name": "Approvals", "url": reverse("approvals:list")},
        {"name": "Attendance", "url": reverse("attendance:month")},
    ]


def test_the_manifests_colours_are_the_stylesheets():
    data = manifest(Client())
    # The top bar, under the browser's own bar; the page's ground, behind the splash screen.
    assert data["theme_color"] == css_variable("surface") == "#ffffff"
    assert data["background_color"] == css_variable("bg") == "#f4f6fa"


def test_the_manifest_speaks_the_readers_language(person):
    data = manifest(Client(), HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert data["lang"] == "zh-hans"
    assert [s["name"] for s in data["shortcuts"]] == ["消息", "审批", "考勤"]
    assert "审批" in data["description"]
    # A signed-in person's own choice wins (the page's link sends the cookies).
    person.language = "zh-hans"
    person.save()
    client = Client()
    client.force_login(person)
    assert manifest(client, HTTP_ACCEPT_LANGUAGE="en")["lang"] == "zh-hans"


def test_each_icon_is_a_png_of_its_stated_size():
    icons = manifest(Client())["icons"]
    assert {(i["sizes"], i["purpose"]) for i in icons} == {
        ("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable"),
    }  # fmt: skip
    for icon in icons:
        assert icon["type"] == "image/png"
        with Image.open(static_file(icon["src"])) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]


def test_a_maskable_icon_fills_its_square_and_keeps_the_arrows_in_the_safe_zone():
    for icon in manifest(Client())["icons"]:
        with Image.open(static_file(icon["src"])) as image:
            image = image.convert("RGBA")
            size = image.width
            corner = image.getpixel((0, 0))
            if icon["purpose"] == "any":
                assert corner[3] == 0  # the favicon's rounded square
                continue
            assert corner == (0x2F, 0x6F, 0xED, 255)  # the brand blue to the edge
            # Every white pixel lies in the central circle of radius 40 % that any mask keeps.
            centre = (size - 1) / 2
            white = [
                (x, y) for y in range(0, size, 2) for x in range(0, size, 2) if image.getpixel((x, y))[:3] == (255,) * 3
            ]
            assert white
            assert max(math.dist((x, y), (centre, centre)) for x, y in white) < 0.4 * size


def test_the_apple_touch_icon_is_an_opaque_180_px_square():
    with Image.open(static_file(staticfiles_storage.url(pwa.APPLE_TOUCH_ICON))) as image:
        assert (image.format, image.size, image.mode) == ("PNG", (180, 180), "RGB")


# --- The service worker and its shell ------------------------------------------------


def service_worker(client: Client) -> tuple[object, str]:
    response = client.get("/sw.js")
    assert response.status_code == 200
    return response, response.content.decode()


def constant(script: str, name: str):
    return json.loads(re.search(rf"^const {name} = (.*);$", script, re.M).group(1))


def test_the_service_worker_is_a_script_for_the_whole_site_checked_at_every_update():
    response, script = service_worker(Client())
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert constant(script, "VERSION") == pwa.shell().version
    assert re.fullmatch(r"[0-9a-f]{16}", pwa.shell().version)
    assert constant(script, "OFFLINE_URL") == reverse("offline")
    assert constant(script, "STATIC_PREFIX") == "/static/"
    assert constant(script, "CHAT_URL") == reverse("chat") == "/chat/"
    assert constant(script, "CATALOG_URL") == reverse("javascript-catalog") == "/jsi18n/"
    assert constant(script, "SHELL_HEADER") == pwa.SHELL_HEADER
    for step in ("caches.delete", "self.clients.claim()", "cache.addAll", "request.mode === 'navigate'"):
        assert step in script


def test_the_chat_page_names_its_release_for_the_service_worker_to_keep_it(person):
    client = Client()
    client.force_login(person)
    response = client.get(reverse("chat"))
    assert response[pwa.SHELL_HEADER] == pwa.shell().version
    # Only the chat page is kept; no other page names a release.
    assert pwa.SHELL_HEADER not in client.get(reverse("contacts:people"))
    assert pwa.SHELL_HEADER not in Client().get(reverse("login"))


def test_the_shell_is_the_static_files_the_chat_loads_and_no_page():
    _response, script = service_worker(Client())
    shell = constant(script, "SHELL")
    assert shell == list(pwa.shell().urls)
    for path in [
        "css/switchboard.css", "messaging/chat.css", "messaging/main.js", "core/pwa.js",
        "vendor/markdown-it/markdown-it.min.js", "vendor/dompurify/purify.min.js",
        "apps_approval/approval.js", "files/files.css", "favicon.svg", pwa.APPLE_TOUCH_ICON,
        *modules.module_paths(), *(path for path, _size, _purpose in pwa.ICONS),
    ]:  # fmt: skip
        assert staticfiles_storage.url(path) in shell, path
    # Nothing but static files of Switchboard's own apps, each of them real.
    for url in shell:
        assert static_file(url).is_file()
        assert not url.startswith(("/static/admin/", "/static/drf_spectacular_sidecar/"))
        assert not url.endswith((".md", "LICENSE"))


def test_the_version_follows_the_shells_files_and_templates():
    files = pwa.shell_paths()
    templates = ["sw", "offline"]
    version = pwa.version_of(files, templates)
    assert pwa.version_of(list(files), list(templates)) == version
    (path, content), *rest = files
    assert pwa.version_of([(path, content + b"\n"), *rest], templates) != version
    assert pwa.version_of(files, ["sw ", "offline"]) != version
    # Computed once per process: every request of a worker names the same cache.
    assert pwa.shell() is pwa.shell()


def test_once_collected_the_shell_names_the_files_as_the_pages_do(collected, person):
    shell = set(pwa.shell().urls)
    client = Client()
    client.force_login(person)
    page = client.get("/chat/").content.decode()
    imports = modules.import_map()["imports"]
    loaded = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page))
    assert loaded and loaded <= shell
    assert all(re.search(r"\.[0-9a-f]{12}\.", url) for url in loaded)
    # The modules the chat imports through its import map are there under the same names.
    assert set(imports.values()) <= shell


# --- The offline page ---------------------------------------------------------------


def test_the_offline_page_is_the_same_for_everyone_and_takes_nobodys_messages(person):
    anonymous = Client().get("/offline/")
    assert anonymous.status_code == 200 and anonymous["Cache-Control"] == "no-cache"
    html = anonymous.content.decode()
    assert 'data-testid="offline"' in html and "You are offline" in html
    assert '<body class="offline">' in html and "switchboard.css" in html

    client = Client()
    client.force_login(person)
    response = client.get("/offline/")
    assert response.content.decode() == html
    assert "Pat Example" not in html and "csrfmiddlewaretoken" not in html
    # Rendered without the request's context: the flash messages waiting for the person's
    # next page are not read (and so not used up) by the service worker's fetch.
    assert "messages" not in response.context and "user" not in response.context


# --- Every page --------------------------------------------------------------------


def test_pages_carry_the_manifest_and_what_ios_reads(person):
    client = Client()
    sign_in_page = client.get(reverse("login")).content.decode()
    client.force_login(person)
    chat = client.get(reverse("chat")).content.decode()
    for html in (sign_in_page, chat):
        assert '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover, interactive-widget=resizes-content">' in html
        assert '<link rel="manifest" href="/manifest.webmanifest" crossorigin="use-credentials">' in html
        assert f'<meta name="theme-color" content="{pwa.THEME_COLOR}">' in html
        assert '<meta name="mobile-web-app-capable" content="yes">' in html
        assert '<meta name="apple-mobile-web-app-capable" content="yes">' in html
        assert '<meta name="apple-mobile-web-app-title" content="Switchboard">' in html
        assert '<meta name="apple-mobile-web-app-status-bar-style" content="default">' in html
        assert '<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png">' in html
        assert '<script type="module" src="/static/core/pwa.js"></script>' in html
    # The chat's import map comes before the first module, as browsers require.
    assert chat.index('type="importmap"') < chat.index('type="module"')
    # The install button waits, hidden, for the browser's offer.
    assert re.search(r'<button [^>]*data-testid="install-app" hidden>Install app</button>', chat)
    assert 'data-testid="install-app"' not in sign_in_page


def test_pages_say_whom_they_are_for_and_the_offline_page_says_nobody(person):
    # A page for no one signed in: pwa.js then deletes what the chat kept on the device.
    client = Client()
    assert '<meta name="switchboard-user" content="">' in client.get(reverse("login")).content.decode()
    client.force_login(person)
    for name in ("chat", "contacts:people", "login"):
        assert f'<meta name="switchboard-user" content="{person.pk}">' in client.get(reverse(name)).content.decode()
    # The offline page, the same for everyone, says nothing either way.
    assert "switchboard-user" not in client.get(reverse("offline")).content.decode()
