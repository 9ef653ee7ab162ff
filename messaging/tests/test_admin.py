import pytest

from messaging.models import Connection

pytestmark = pytest.mark.django_db


def test_connections_show_address_and_port_in_the_admin(demo, client):
    Connection.objects.create(
        user=demo["alice"], channel_name="specific.abc!1", worker="worker-1",
        remote_address="192.0.2.7", remote_port=51234, auth="bearer",
    )
    client.force_login(demo["admin"])
    page = client.get("/admin/messaging/connection/").content.decode()
    assert "192.0.2.7" in page and "51234" in page and "worker-1" in page
    for path in ["/admin/messaging/conversation/", "/admin/messaging/message/"]:
        assert client.get(path).status_code == 200
