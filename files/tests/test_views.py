"""The download as ASGI serves it: streamed from an asynchronous body, in-process and
behind a real Daphne worker."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from accounts.services import token_issue_for_user
from files import services

from .conftest import metric, sha256, upload_of

CONTENT = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit: several blocks
# Past Django's 2.5 MB in-memory limit, so the upload goes through a temporary file.
LARGE = CONTENT * 3


@pytest.mark.django_db(transaction=True)
async def test_asgi_streams_the_file_without_reading_it_whole(demo, dev_room):
    stored = await sync_to_async(services.file_upload)(
        user=demo["alice"], conversation_id=dev_room.pk, upload=upload_of(CONTENT, "blocks.bin")
    )
    client = AsyncClient()
    await client.aforce_login(demo["bob"])
    before = metric("switchboard_relay_bytes_total")
    response = await client.get(f"/files/{stored.pk}/")
    assert response.status_code == 200
    assert response.is_async
    chunks = [chunk async for chunk in response.streaming_content]
    assert len(chunks) > 1 and b"".join(chunks) == CONTENT
    assert response["Content-Type"] == "application/octet-stream"
    assert metric("switchboard_relay_bytes_total") - before == len(CONTENT)

    stranger = AsyncClient()
    await stranger.aforce_login(demo["carol"])
    assert (await stranger.get(f"/files/{stored.pk}/")).status_code == 404


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_upload_and_download_through_a_daphne_worker(demo, dev_room, services_env, tmp_path):
    import requests
    from django.test import Client

    from imsite.testing.servers import servers

    alice = token_issue_for_user(user=demo["alice"])["access_token"]
    carol = token_issue_for_user(user=demo["carol"])["access_token"]
    session = Client()
    session.force_login(demo["bob"])
    env = {**services_env, "MEDIA_ROOT": str(tmp_path / "worker-media")}
    with servers(["web-files"], env, tmp_path) as (web,):
        created = requests.post(
            f"{web.url}/api/v1/files/",
            data={"conversation": dev_room.pk},
            files={"file": ("blocks.bin", LARGE, "application/x-msdownload")},
            headers={"Authorization": f"Bearer {alice}"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        assert created.json()["sha256"] == sha256(LARGE)
        url = f"{web.url}{created.json()['url']}"

        # Bob's browser session, as an <a download> link would use it.
        download = requests.get(url, cookies={"sessionid": session.cookies["sessionid"].value}, timeout=30)
        assert download.status_code == 200
        assert download.content == LARGE
        assert download.headers["Content-Type"] == "application/octet-stream"
        assert download.headers["Content-Disposition"] == 'attachment; filename="blocks.bin"'
        assert download.headers["X-Content-Type-Options"] == "nosniff"

        assert requests.get(url, headers={"Authorization": f"Bearer {alice}"}, timeout=30).content == LARGE
        assert requests.get(url, headers={"Authorization": f"Bearer {carol}"}, timeout=30).status_code == 404

        metrics = requests.get(f"{web.url}/metrics", timeout=30).text
        relayed = next(
            float(line.split()[1]) for line in metrics.splitlines() if line.startswith("switchboard_relay_bytes_total ")
        )
        assert relayed >= 3 * len(LARGE)
