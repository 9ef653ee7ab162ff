"""The built-in templates read in the reader's language: names, field labels, options and
steps, on the card's API, the pages, the template list and the inbox's preview."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps_approval import services
from apps_approval.builtin import BUILTIN_TEXTS, DEMO_STEPS, OPTION_TEXTS, TEMPLATES, builtin_text, option_text

pytestmark = pytest.mark.django_db

LEAVE = {"leave_type": "sick", "start": "2026-12-01", "end": "2026-12-02", "reason": "flu"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def zh(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return client


def test_every_built_in_text_has_its_translation():
    texts = set()
    for template in TEMPLATES:
        texts |= {template["name"], template["description"]}
        texts |= {f["label"] for f in template["fields"]} | {s["name"] for s in template["steps"]}
        options = {o for f in template["fields"] if f["type"] == "select" and f["name"] != "currency" for o in f["options"]}
        assert options <= set(OPTION_TEXTS)
    texts |= {s["name"] for steps in DEMO_STEPS.values() for s in steps}
    assert texts <= set(BUILTIN_TEXTS)
    with translation.override("zh-hans"):
        untranslated = {t for t in texts if builtin_text(t) == t} | {o for o in OPTION_TEXTS if option_text(o) == o}
    assert not untranslated
    # An admin's own text, and an option without a label, read as written.
    with translation.override("zh-hans"):
        assert builtin_text("Team offsite") == "Team offsite" and option_text("half_day") == "Half day"


def test_a_request_reads_in_chinese_for_a_chinese_reader(demo, api_for, django_capture_on_commit_callbacks):
    alice = api_for(demo["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        approval, _ = services.approval_submit(requester=demo["alice"], template_code="leave", data=LEAVE, client_id="zh-1")

    english = alice.get(f"/api/v1/approvals/{approval.pk}/").json()
    assert english["template"]["name"] == "Leave" and english["steps"][0]["name"] == "Manager"
    assert [(r["label"], r["value"]) for r in english["summary"]][:2] == [("Leave type", "Sick"), ("First day", "2026-12-01")]

    chinese = zh(alice).get(f"/api/v1/approvals/{approval.pk}/").json()
    assert chinese["template"]["name"] == "请假" and chinese["steps"][0]["name"] == "直属主管"
    assert [(r["label"], r["value"]) for r in chinese["summary"]] == [
        ("请假类型", "病假"), ("开始日期", "2026-12-01"), ("结束日期", "2026-12-02"), ("事由", "flu"),
    ]
    assert chinese["data"]["leave_type"] == "sick"  # the data itself stays as stored

    templates = zh(api_for(demo["bob"])).get("/api/v1/approvals/templates/").json()
    assert [t["name"] for t in templates] == ["请假", "报销", "通用审批", "补卡申请"]
    assert templates[0]["fields"][0]["label"] == "请假类型" and templates[0]["fields"][0]["name"] == "leave_type"

    # The approver's inbox previews the card in Chinese, the requester's in English.
    dev_lead = zh(api_for(demo["dev_lead"])).get("/api/v1/conversations/").json()
    previews = [c["last_message"]["preview"] for c in dev_lead if c["last_message"]]
    assert "[审批] 请假" in previews
    mine = api_for(demo["alice"]).get("/api/v1/conversations/").json()
    assert "[Approval] Leave" in [c["last_message"]["preview"] for c in mine if c["last_message"]]


def test_the_pages_and_the_chat_config_read_in_chinese(demo, client):
    client.force_login(demo["alice"])
    form = client.get("/approvals/new/leave/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<h1>请假</h1>" in form and "请假类型" in form and '<option value="annual">年假</option>' in form
    chooser = client.get("/approvals/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "补卡申请" in chooser and "补记漏打的上班卡或下班卡。" in chooser
    chat = client.get("/chat/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # The chat page hands the approval cards' module the names by code (json_script escapes them).
    assert '"leave": "\\u8bf7\\u5047"' in chat and '"approval": "\\u5ba1\\u6279"' in chat
