import json

import pytest

from apps_approval.models import ApprovalTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(demo, client):
    client.force_login(demo["admin"])
    return client


def post_template(admin_client, **overrides):
    data = {
        "code": "training", "name": "Training", "description": "", "is_active": "on", "order": 5,
        "fields": json.dumps([{"name": "course", "label": "Course", "type": "text", "required": True},
                              {"name": "cost", "label": "Cost", "type": "number"}]),
        "steps": json.dumps([{"name": "Manager", "approvers": {"kind": "manager"}, "mode": "any"},
                             {"name": "HR", "approvers": {"kind": "department_managers", "department": "hr"},
                              "condition": {"field": "cost", "op": ">", "value": 500}}]),
        "cc": "[]",
    }
    data.update(overrides)
    return admin_client.post("/admin/apps_approval/approvaltemplate/add/", data)


def test_admin_adds_a_template_without_code(admin_client, demo, api_for):
    assert post_template(admin_client).status_code == 302
    template = ApprovalTemplate.objects.get(code="training")
    assert [f["name"] for f in template.fields] == ["course", "cost"]
    created = api_for(demo["alice"]).post(
        "/api/v1/approvals/", {"template": "training", "client_id": "t1", "data": {"course": "Go", "cost": 900}}, format="json"
    )
    assert created.status_code == 201 and [s["name"] for s in created.json()["steps"]] == ["Manager", "HR"]


@pytest.mark.parametrize(
    "override, message",
    [
        ({"fields": json.dumps([{"name": "x", "type": "colour"}])}, "unknown type"),
        ({"steps": json.dumps([{"name": "?", "approvers": {"kind": "astrologer"}}])}, "known kind"),
        ({"steps": "[]"}, "at least one approval step"),
    ],
)
def test_admin_refuses_templates_that_cannot_run(admin_client, override, message):
    page = post_template(admin_client, **override)
    assert page.status_code == 200 and message in page.content.decode()
    assert not ApprovalTemplate.objects.filter(code="training").exists()


def test_approval_admin_shows_the_audit_trail_read_only(admin_client):
    assert admin_client.get("/admin/apps_approval/approval/").status_code == 200
    assert admin_client.get("/admin/apps_approval/approvaltemplate/").status_code == 200
