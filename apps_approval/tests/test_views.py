"""The approval pages: boxes, the form generated from a template, detail, decide, withdraw."""

from __future__ import annotations

import uuid
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.formats import date_format

from apps_approval import services
from apps_approval.models import Approval, ApprovalEvent, ApprovalFile
from messaging.models import Message

pytestmark = pytest.mark.django_db

LEAVE = {
    "field-leave_type": "annual",
    "field-start": "2026-12-01",
    "field-end": "2026-12-02",
    "field-reason": "Family visit",
}


@pytest.fixture
def file_leave(django_capture_on_commit_callbacks):
    def file(user, **data):
        with django_capture_on_commit_callbacks(execute=True):
            approval, _ = services.approval_submit(
                requester=user,
                template_code="leave",
                client_id=str(uuid.uuid4()),
                data={"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-02", "reason": "Family visit", **data},
            )
        return approval

    return file


def post(client, django_capture_on_commit_callbacks, url, data, follow=True):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url, data, follow=follow)


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_pages_need_a_sign_in(client):
    for url in ("/approvals/", "/approvals/new/", "/approvals/new/leave/", "/approvals/1/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]


def test_list_tabs(client, demo, file_leave):
    approval = file_leave(demo["alice"])
    client.force_login(demo["dev_lead"])
    response = client.get("/approvals/")
    assert response.status_code == 200
    assert response.context["box"] == "pending"
    assert [row["id"] for row in response.context["rows"]] == [approval.pk]
    html = response.content.decode()
    assert 'data-testid="approval-tab-pending"' in html and 'aria-current="page"' in html
    assert "Alice Wang" in html and "Waiting for me" in html and "My requests" in html and "Done by me" in html

    assert client.get("/approvals/?box=done").context["rows"] == []
    assert client.get("/approvals/?box=mine").context["rows"] == []
    assert client.get("/approvals/?box=nonsense").context["box"] == "pending"

    client.force_login(demo["alice"])
    assert [row["id"] for row in client.get("/approvals/?box=mine").context["rows"]] == [approval.pk]
    pending = client.get("/approvals/")
    assert pending.context["rows"] == []
    assert 'data-testid="approval-empty"' in pending.content.decode()


def test_template_choice_and_form_fields(client, demo):
    client.force_login(demo["alice"])
    html = client.get("/approvals/new/").content.decode()
    for code in ("leave", "expense", "general", "punch_correction"):
        assert reverse("approvals:new-form", args=[code]) in html

    response = client.get("/approvals/new/leave/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<select id="field-leave_type" name="field-leave_type" required>' in html
    assert '<option value="annual">Annual</option>' in html
    assert 'name="field-start"' in html and 'type="date"' in html
    assert '<textarea id="field-reason" name="field-reason"' in html
    assert 'name="client_id"' in html

    html = client.get("/approvals/new/expense/").content.decode()
    assert 'type="number"' in html and 'min="0.01"' in html
    assert 'name="field-items-0-description"' in html and 'name="field-items-2-amount"' in html
    assert '<input type="file" id="field-receipt" name="field-receipt">' in html
    assert 'enctype="multipart/form-data"' in html

    html = client.get("/approvals/new/punch_correction/").content.decode()
    assert 'type="time"' in html and '<option value="check_in">Check in</option>' in html

    assert client.get("/approvals/new/no-such-template/").status_code == 404


def test_filing_a_leave_creates_a_pending_approval(client, demo, django_capture_on_commit_callbacks):
    client.force_login(demo["alice"])
    client_id = uuid.uuid4().hex
    response = post(client, django_capture_on_commit_callbacks, "/approvals/new/leave/", {**LEAVE, "client_id": client_id})
    approval = Approval.objects.get(requester=demo["alice"])
    assert response.redirect_chain == [(f"/approvals/{approval.pk}/", 302)]
    assert approval.state == Approval.State.PENDING
    assert approval.data == {"leave_type": "annual", "start": "2026-12-01", "end": "2026-12-02", "reason": "Family visit"}
    assert flashes(response) == ["Your request was sent for approval."]
    # The manager got the card in the chat.
    card = Message.objects.get(app="approval", sender=demo["alice"])
    assert card.body["approval"] == approval.pk and card.body["event"] == "review"

    # The same form sent twice (a double click) files one request.
    again = post(client, django_capture_on_commit_callbacks, "/approvals/new/leave/", {**LEAVE, "client_id": client_id})
    assert again.redirect_chain == [(f"/approvals/{approval.pk}/", 302)]
    assert Approval.objects.count() == 1 and Message.objects.filter(app="approval").count() == 1


def test_an_invalid_form_is_shown_again_with_the_error(client, demo, django_capture_on_commit_callbacks):
    client.force_login(demo["alice"])
    response = post(
        client, django_capture_on_commit_callbacks, "/approvals/new/leave/",
        {**LEAVE, "field-end": "2026-11-30", "client_id": uuid.uuid4().hex},
    )
    assert response.status_code == 400
    assert flashes(response) == ["Last day: must not be before the start."]
    html = response.content.decode()
    assert 'aria-invalid="true" aria-describedby="field-end-error"' in html
    assert 'value="2026-11-30"' in html and "Family visit" in html  # what was typed is kept
    assert not Approval.objects.exists()


def test_expense_with_items_and_a_receipt(client, demo, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(demo["alice"])
    data = {
        "field-amount": "42.5", "field-currency": "EUR", "client_id": uuid.uuid4().hex,
        "field-items-0-description": "Taxi", "field-items-0-amount": "30",
        "field-items-1-description": "Lunch", "field-items-1-amount": "12.5",
        "field-items-2-description": "", "field-items-2-amount": "",
        "field-receipt": SimpleUploadedFile("taxi.pdf", b"%PDF-1.4 fare", content_type="application/pdf"),
    }
    response = post(client, django_capture_on_commit_callbacks, "/approvals/new/expense/", data)
    approval = Approval.objects.get()
    assert approval.data["items"] == [{"description": "Taxi", "amount": 30.0}, {"description": "Lunch", "amount": 12.5}]
    receipt = ApprovalFile.objects.get()
    assert receipt.approval == approval and approval.data["receipt"] == receipt.pk
    html = response.content.decode()
    assert "<td>Taxi</td>" in html and "<td>Lunch</td>" in html
    assert f'href="/approvals/files/{receipt.pk}/"' in html
    # The manager can download it.
    client.force_login(demo["dev_lead"])
    download = client.get(f"/approvals/files/{receipt.pk}/")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 fare"


def test_an_uploaded_file_is_kept_when_the_form_comes_back(client, demo, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(demo["alice"])
    data = {
        "field-amount": "-1", "field-currency": "EUR", "client_id": uuid.uuid4().hex,
        "field-receipt": SimpleUploadedFile("taxi.pdf", b"%PDF-1.4 fare", content_type="application/pdf"),
    }
    response = post(client, django_capture_on_commit_callbacks, "/approvals/new/expense/", data)
    assert response.status_code == 400
    assert flashes(response) == ["Amount: must be at least 0.01."]
    receipt = ApprovalFile.objects.get()
    html = response.content.decode()
    assert f'<input type="hidden" name="field-receipt" value="{receipt.pk}">' in html and "taxi.pdf" in html
    # Sent again with the amount put right, the kept file is attached; nothing is uploaded twice.
    again = {"field-amount": "5", "field-currency": "EUR", "client_id": data["client_id"], "field-receipt": str(receipt.pk)}
    post(client, django_capture_on_commit_callbacks, "/approvals/new/expense/", again)
    assert Approval.objects.get().data["receipt"] == receipt.pk
    assert ApprovalFile.objects.count() == 1


def test_too_large_a_file(client, demo, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.APPROVAL_FILE_MAX_BYTES = 4
    client.force_login(demo["alice"])
    data = {"field-amount": "5", "field-currency": "EUR", "client_id": uuid.uuid4().hex,
            "field-receipt": SimpleUploadedFile("big.pdf", b"12345")}
    response = post(client, django_capture_on_commit_callbacks, "/approvals/new/expense/", data)
    assert response.status_code == 400
    assert flashes(response) == ["Receipt: The file is too large (at most 0 MB)."]
    assert not Approval.objects.exists()


def test_detail_shows_the_summary_chain_and_history(client, demo, file_leave):
    approval = file_leave(demo["alice"])
    client.force_login(demo["alice"])
    response = client.get(f"/approvals/{approval.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="approval-state" data-state="pending"' in html
    assert "Family visit" in html and "Diego Alvarez" in html
    assert 'data-testid="approval-withdraw"' in html and 'data-testid="approval-approve"' not in html
    assert [line["action"] for line in response.context["timeline"]] == ["create", "submit"]

    client.force_login(demo["dev_lead"])
    html = client.get(f"/approvals/{approval.pk}/").content.decode()
    assert 'data-testid="approval-approve"' in html and 'data-testid="approval-reject"' in html
    assert 'data-testid="approval-withdraw"' not in html


def test_times_are_in_the_company_time_zone(client, demo, file_leave, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    approval = file_leave(demo["alice"])
    client.force_login(demo["alice"])
    html = client.get(f"/approvals/{approval.pk}/").content.decode()
    at = ApprovalEvent.objects.filter(approval=approval).first().at
    shanghai = date_format(at.astimezone(ZoneInfo("Asia/Shanghai")), "DATETIME_FORMAT")
    assert shanghai in html
    assert date_format(at.astimezone(UTC), "DATETIME_FORMAT") not in html
    assert "(Asia/Shanghai)" in html


def test_the_manager_approves_from_the_detail_page(client, demo, file_leave, django_capture_on_commit_callbacks):
    approval = file_leave(demo["alice"])
    client.force_login(demo["dev_lead"])
    response = post(
        client, django_capture_on_commit_callbacks, f"/approvals/{approval.pk}/decide/",
        {"decision": "approve", "comment": "Enjoy"},
    )
    assert response.redirect_chain == [(f"/approvals/{approval.pk}/", 302)]
    assert flashes(response) == ["You approved this request."]
    approval.refresh_from_db()
    assert approval.state == Approval.State.APPROVED
    html = response.content.decode()
    assert 'data-state="approved"' in html and "Enjoy" in html
    assert 'data-testid="approval-approve"' not in html
    # The decision and the transition it caused are one line of the history.
    assert [(line["action"], line["to_label"]) for line in response.context["timeline"]] == [
        ("create", "Draft"), ("submit", "Pending"), ("approve", "Approved"),
    ]
    # Alice hears of it in the chat, and the request moves to the manager's done box.
    assert Message.objects.filter(app="approval", sender=demo["dev_lead"], body__event="approved").exists()
    assert [row["id"] for row in client.get("/approvals/?box=done").context["rows"]] == [approval.pk]

    # Deciding again is refused with a clear message.
    again = post(client, django_capture_on_commit_callbacks, f"/approvals/{approval.pk}/decide/", {"decision": "reject"})
    assert flashes(again) == ["This request is approved; it cannot be changed now."]
    approval.refresh_from_db()
    assert approval.state == Approval.State.APPROVED


def test_the_manager_rejects(client, demo, file_leave, django_capture_on_commit_callbacks):
    approval = file_leave(demo["alice"])
    client.force_login(demo["dev_lead"])
    response = post(
        client, django_capture_on_commit_callbacks, f"/approvals/{approval.pk}/decide/",
        {"decision": "reject", "comment": "Release week"},
    )
    assert flashes(response) == ["You rejected this request."]
    approval.refresh_from_db()
    assert approval.state == Approval.State.REJECTED


@pytest.mark.parametrize("username, message, lands_on", [
    ("alice", "Only the current step's approvers can decide.", "detail"),  # the requester herself
    ("bob", "No such approval.", "list"),  # not part of the request at all
])
def test_a_non_approver_cannot_decide(client, demo, file_leave, django_capture_on_commit_callbacks, username, message, lands_on):
    approval = file_leave(demo["alice"])
    events = ApprovalEvent.objects.count()
    client.force_login(demo[username])
    response = post(client, django_capture_on_commit_callbacks, f"/approvals/{approval.pk}/decide/", {"decision": "approve"})
    expected = f"/approvals/{approval.pk}/" if lands_on == "detail" else "/approvals/"
    assert response.redirect_chain == [(expected, 302)]
    assert flashes(response) == [message]
    approval.refresh_from_db()
    assert approval.state == Approval.State.PENDING
    assert ApprovalEvent.objects.count() == events
    assert not Message.objects.filter(app="approval", body__event="approved").exists()


def test_others_cannot_see_a_request(client, demo, file_leave):
    approval = file_leave(demo["alice"])
    client.force_login(demo["bob"])
    response = client.get(f"/approvals/{approval.pk}/", follow=True)
    assert response.redirect_chain == [("/approvals/", 302)]
    assert flashes(response) == ["No such approval."]
    assert "Family visit" not in response.content.decode()


def test_decide_and_withdraw_need_post(client, demo, file_leave):
    approval = file_leave(demo["alice"])
    client.force_login(demo["dev_lead"])
    assert client.get(f"/approvals/{approval.pk}/decide/").status_code == 405
    assert client.get(f"/approvals/{approval.pk}/withdraw/").status_code == 405


def test_the_requester_withdraws(client, demo, file_leave, django_capture_on_commit_callbacks):
    approval = file_leave(demo["alice"])
    client.force_login(demo["dev_lead"])
    refused = post(client, django_capture_on_commit_callbacks, f"/approvals/{approval.pk}/withdraw/", {})
    assert flashes(refused) == ["Only the requester can withdraw a request."]

    client.force_login(demo["alice"])
    response = post(client, django_capture_on_commit_callbacks, f"/approvals/{approval.pk}/withdraw/", {})
    assert flashes(response) == ["You withdrew this request."]
    approval.refresh_from_db()
    assert approval.state == Approval.State.WITHDRAWN
    assert 'data-testid="approval-withdraw"' not in response.content.decode()
    assert client.get("/approvals/?box=mine").context["rows"][0]["state"] == "withdrawn"
