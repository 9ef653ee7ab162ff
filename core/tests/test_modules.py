"""The import map of the web client's modules (core.templatetags.modules)."""

from __future__ import annotations

from django.template import Context, Template

from core.templatetags import modules


def test_collected_modules_are_mapped_from_their_plain_names_to_their_hashed_ones(collected):
    imports = modules.import_map()["imports"]
    main = imports["/static/messaging/main.js"]
    assert main.startswith("/static/messaging/main.") and main.endswith(".js") and main != "/static/messaging/main.js"
    assert (collected / main.removeprefix("/static/")).read_bytes() == (collected / "messaging/main.js").read_bytes()
    # Every module the chat imports, and the office apps' modules too.
    assert {"/static/messaging/outbox.js", "/static/messaging/client.js", "/static/files/file.js"} <= set(imports)
    # Not the vendored bundles (classic scripts) nor other projects' files.
    assert not [url for url in imports if "/vendor/" in url or url.startswith("/static/admin/")]


def test_the_tag_writes_an_import_map_that_no_path_can_break_out_of(collected):
    html = Template("{% load modules %}{% importmap %}").render(Context())
    assert html.startswith('<script type="importmap">{') and html.endswith("</script>")
    assert html.count("<") == 2  # json_script escapes any < in the JSON


def test_without_collected_files_the_map_is_empty_and_plain_names_are_served():
    modules.import_map.cache_clear()
    assert modules.import_map() == {"imports": {}}
