"""The approvals REST API, and the race of two approvers clicking at once."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from apps_approval import services
from apps_approval.models import Approval, ApprovalTemplate
from core.errors import ApplicationError


def post(client, path, payload=None):
    return client.post(path, payload or {}, format="json")


@pytest.mark.django_db
def test_templates_and_the_whole_flow(demo, api_for, django_capture_on_commit_callbacks):
    alice, dev_lead = api_for(demo["alice"]), api_for(demo["dev_lead"])
    templates = alice.get("/api/v1/approvals/templates/").json()
    assert [t["code"] for t in templates] == ["leave", "expense", "general", "punch_correction"]
    assert {f["name"] for f in templates[0]["fields"]} == {"leave_type", "start", "end", "reason"}

    payload = {"template": "leave", "client_id": "leave-1",
               "data": {"leave_type": "sick", "start": "2026-12-01", "end": "2026-12-02", "reason": "flu"}}
    with django_capture_on_commit_callbacks(execute=True):
        created = post(alice, "/api/v1/approvals/", payload)
    assert created.status_code == 201
    body = created.json()
    assert body["state"] == "pending" and [a["username"] for a in body["current_approvers"]] == ["dev_lead"]
    assert [s["name"] for s in body["steps"]] == ["Manager"]
    assert [e["action"] for e in body["events"]] == ["create", "submit"]
    assert body["can_withdraw"] and not body["can_decide"]
    again = post(alice, "/api/v1/approvals/", payload)
    assert again.status_code == 200 and again.json()["id"] == body["id"]

    assert [a["id"] for a in dev_lead.get("/api/v1/approvals/", {"box": "pending"}).json()] == [body["id"]]
    assert [a["id"] for a in alice.get("/api/v1/approvals/", {"box": "mine"}).json()] == [body["id"]]
    assert api_for(demo["bob"]).get(f"/api/v1/approvals/{body['id']}/").status_code == 404

    refused = post(alice, f"/api/v1/approvals/{body['id']}/decide/", {"decision": "approve"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
    with django_capture_on_commit_callbacks(execute=True):
        approved = post(dev_lead, f"/api/v1/approvals/{body['id']}/decide/", {"decision": "approve", "comment": "Get well"})
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    twice = post(dev_lead, f"/api/v1/approvals/{body['id']}/decide/", {"decision": "approve"})
    assert twice.status_code == 409 and twice.json()["code"] == "conflict"
    assert [a["id"] for a in dev_lead.get("/api/v1/approvals/", {"box": "done"}).json()] == [body["id"]]


@pytest.mark.django_db
def test_api_errors(demo, api_for):
    alice = api_for(demo["alice"])
    bad = post(alice, "/api/v1/approvals/", {"template": "leave", "client_id": "x", "data": {"leave_type": "annual", "start": "2026-12-01"}})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_field" and bad.json()["field"] == "end"
    unknown = post(alice, "/api/v1/approvals/", {"template": "teleport", "client_id": "y", "data": {}})
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert alice.get("/api/v1/approvals/", {"box": "everything"}).json()["code"] == "invalid"
    assert post(alice, "/api/v1/approvals/1/decide/", {"decision": "maybe"}).status_code == 400
    assert not Approval.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_or_sign_approvers_at_once_make_one_transition(demo):
    ApprovalTemplate.objects.create(
        code="either", name="Either", fields=[],
        steps=[{"name": "Either lead", "approvers": {"kind": "users", "users": ["sales_lead", "mkt_lead"]}, "mode": "any"}],
    )
    approval, _ = services.approval_submit(requester=demo["carol"], template_code="either", data={}, client_id=str(uuid.uuid4()))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(username: str) -> None:
        barrier.wait()
        try:
            services.approval_decide(user=demo[username], approval_id=approval.pk, decision="approve")
            outcomes[username] = "ok"
        except ApplicationError as error:
            outcomes[username] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in ("sales_lead", "mkt_lead")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    approval.refresh_from_db()
    assert approval.state == "approved"
    assert list(approval.events.values_list("to_state", flat=True)).count("approved") == 1


@pytest.mark.django_db
def test_expense_with_a_receipt_served_only_to_the_people_involved(demo, api_for, settings, tmp_path, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    settings.MEDIA_ROOT = tmp_path
    carol = api_for(demo["carol"])
    upload = carol.post("/api/v1/approvals/files/", {"file": SimpleUploadedFile("taxi receipt.pdf", b"%PDF-1.4 fare", content_type="application/pdf")}, format="multipart")
    assert upload.status_code == 201
    file_id = upload.json()["id"]
    # Someone else cannot name carol's upload in their own form.
    stolen = post(api_for(demo["dave"]), "/api/v1/approvals/", {"template": "expense", "client_id": "s", "data": {"amount": 5, "currency": "CNY", "receipt": file_id}})
    assert stolen.status_code == 400 and stolen.json()["field"] == "receipt"
    with django_capture_on_commit_callbacks(execute=True):
        created = post(carol, "/api/v1/approvals/", {"template": "expense", "client_id": "e1", "data": {
            "amount": 1200, "currency": "CNY", "items": [{"description": "Taxi", "amount": 1200}], "receipt": str(file_id)}})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert [s["name"] for s in body["steps"]] == ["Manager", "Human Resources"]
    receipt = next(row for row in body["summary"] if row["name"] == "receipt")
    assert receipt["value"] == "taxi_receipt.pdf" and receipt["url"] == f"/approvals/files/{file_id}/"

    for username, status in [("carol", 200), ("sales_lead", 200), ("hr_lead", 200), ("alice", 404)]:
        client = Client()
        client.force_login(demo[username])
        response = client.get(receipt["url"])
        assert response.status_code == status, username
        if status == 200:
            assert b"".join(response.streaming_content) == b"%PDF-1.4 fare"
            assert response["Content-Disposition"].startswith("attachment")
            assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_oversize_upload(demo, api_for, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    settings.APPROVAL_FILE_MAX_BYTES = 10
    response = api_for(demo["carol"]).post("/api/v1/approvals/files/", {"file": SimpleUploadedFile("big.bin", b"x" * 11)}, format="multipart")
    assert response.status_code == 413 and response.json()["code"] == "too_large"


@pytest.mark.django_db
def test_the_chat_loads_the_approval_renderer(demo, client):
    client.force_login(demo["alice"])
    page = client.get("/chat/").content.decode()
    assert '<script type="module" src="/static/apps_approval/approval.js"></script>' in page
    # Its strings come from the JavaScript catalogue, not from the page.
    assert "sb-approval-strings" not in page


@pytest.mark.django_db
def test_unsent_uploads_are_discarded_after_a_day(demo, api_for, settings, tmp_path):
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from apps_approval.models import ApprovalFile

    settings.MEDIA_ROOT = tmp_path
    upload = api_for(demo["carol"]).post("/api/v1/approvals/files/", {"file": SimpleUploadedFile("r.pdf", b"x")}, format="multipart")
    stored = ApprovalFile.objects.get(pk=upload.json()["id"])
    path = stored.file.path
    assert services.approval_files_discard_unused() == 0
    ApprovalFile.objects.filter(pk=stored.pk).update(uploaded_at=timezone.now() - timedelta(days=2))
    assert services.approval_files_discard_unused() == 1
    assert not ApprovalFile.objects.exists()
    import os

    assert not os.path.exists(path)
