"""Messaging's services besides sending (messaging.send has test_send.py)."""

import pytest
from prometheus_client import REGISTRY

from core.errors import ApplicationError
from messaging import services


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_p2p_reports_are_counted_by_kind_within_bounds(settings):
    before = {kind: metric("switchboard_p2p_bytes_total", kind=kind) for kind in ("message", "file")}
    services.p2p_bytes_report(byte_count=500, kind="file")
    services.p2p_bytes_report(byte_count=settings.FILE_MAX_P2P_REPORT, kind="message")
    for byte_count, kind in [(0, "file"), (-1, "file"), (settings.FILE_MAX_P2P_REPORT + 1, "file"),
                             (True, "file"), ("5", "file"), (1.5, "file"), (5, "video"), (5, None)]:
        with pytest.raises(ApplicationError) as error:
            services.p2p_bytes_report(byte_count=byte_count, kind=kind)
        assert error.value.code == "invalid"
    assert metric("switchboard_p2p_bytes_total", kind="file") - before["file"] == 500
    assert metric("switchboard_p2p_bytes_total", kind="message") - before["message"] == settings.FILE_MAX_P2P_REPORT
