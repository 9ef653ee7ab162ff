"""Routing, conditions, countersign and or-sign, permissions, idempotency, audit, events."""

from __future__ import annotations

import uuid

import pytest

from apps_approval import services
from apps_approval.models import Approval, ApprovalEvent, ApprovalTemplate
from apps_approval.routing import resolve_chain
from core.errors import ApplicationError
from core import bus
from messaging.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run after-commit work (cards, events) inside the test's transaction."""
    def run(func, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(**kwargs)

    return run


def submit(run_on_commit, user, template, **data):
    approval, _created = run_on_commit(
        services.approval_submit, requester=user, template_code=template, data=data, client_id=str(uuid.uuid4())
    )
    return approval


def leave(days: int) -> dict:
    return {"leave_type": "annual", "start": "2026-12-01", "end": f"2026-12-{days:02d}", "reason": "rest"}


def approvers(approval):
    return [[a.user.username for a in step.approvers.all()] for step in approval.steps.order_by("index")]


# --- routing ------------------------------------------------------------------------------


def test_demo_routing(demo):
    template = {t.code: t for t in ApprovalTemplate.objects.all()}

    def chain(user, code, data):
        return [[u.username for u in s.approvers] for s in resolve_chain(steps=template[code].steps, requester=demo[user], data=data)]

    assert chain("alice", "leave", leave(3)) == [["dev_lead"]]
    assert chain("alice", "leave", leave(4)) == [["dev_lead"], ["president"]]
    assert chain("carol", "expense", {"amount": 1000, "currency": "CNY"}) == [["sales_lead"]]
    assert chain("carol", "expense", {"amount": 1000.5, "currency": "CNY"}) == [["sales_lead"], ["hr_lead"]]
    assert chain("erin", "general", {"title": "t", "text": "x"}) == [["hr_lead"]]
    assert chain("bob", "punch_correction", {}) == [["dev_lead"]]
    # A manager's own request goes to the next manager up.
    assert chain("dev_lead", "general", {}) == [["president"]]
    # ...and the president twice in a row is asked once.
    assert chain("dev_lead", "leave", leave(10)) == [["president"]]


def test_step_kinds_and_modes(demo):
    steps = [
        {"name": "Both leads", "approvers": {"kind": "users", "users": ["sales_lead", "mkt_lead"]}, "mode": "all"},
        {"name": "Up", "approvers": {"kind": "next_manager"}},
        {"name": "HR", "approvers": {"kind": "department_managers", "department": "hr"}},
        {"name": "Never", "approvers": {"kind": "manager"}, "condition": {"field": "amount", "op": ">=", "value": 5}},
    ]
    chain = resolve_chain(steps=steps, requester=demo["alice"], data={"amount": 4})
    assert [(s.name, s.mode, [u.username for u in s.approvers]) for s in chain] == [
        ("Both leads", "all", ["mkt_lead", "sales_lead"]),
        ("Up", "any", ["president"]),
        ("HR", "any", ["hr_lead"]),
    ]


# --- the workflow ----------------------------------------------------------------------------


def test_submit_sends_a_card_to_the_approver_even_without_a_visibility_rule(demo, run_on_commit):
    approval = submit(run_on_commit, demo["alice"], "leave", **leave(5))
    assert approval.state == "pending" and approvers(approval) == [["dev_lead"], ["president"]]
    card = Message.objects.get(app="approval", sender=demo["alice"])
    assert card.body["approval"] == approval.pk and card.body["event"] == "review"
    assert set(card.conversation.memberships.values_list("user__username", flat=True)) == {"alice", "dev_lead"}

    run_on_commit(services.approval_decide, user=demo["dev_lead"], approval_id=approval.pk, decision="approve")
    approval.refresh_from_db()
    assert approval.state == "pending" and approval.current_step == 1
    # Alice does not see the president, yet the approval lets her card reach him.
    to_president = Message.objects.filter(app="approval", conversation__memberships__user=demo["president"])
    assert to_president.filter(body__event="review").exists()

    run_on_commit(services.approval_decide, user=demo["president"], approval_id=approval.pk, decision="approve", comment="Enjoy")
    approval.refresh_from_db()
    assert approval.state == "approved" and approval.finished_at is not None
    assert Message.objects.filter(app="approval", sender=demo["president"], body__event="approved").exists()
    actions = list(approval.events.values_list("action", "from_state", "to_state"))
    assert actions == [
        ("create", "", "draft"),
        ("submit", "draft", "pending"),
        ("approve", "pending", "pending"),
        ("approve", "pending", "pending"),
        ("approve", "pending", "approved"),
    ]


def test_reject_ends_it(demo, run_on_commit):
    approval = submit(run_on_commit, demo["alice"], "leave", **leave(5))
    run_on_commit(services.approval_decide, user=demo["dev_lead"], approval_id=approval.pk, decision="reject", comment="Busy week")
    approval.refresh_from_db()
    assert approval.state == "rejected"
    assert list(approval.steps.values_list("state", flat=True)) == ["rejected", "cancelled"]


def test_countersign_needs_everyone_and_or_sign_anyone(demo, run_on_commit):
    template = ApprovalTemplate.objects.create(
        code="purchase", name="Purchase", fields=[{"name": "title", "type": "text", "required": True}],
        steps=[
            {"name": "Leads", "approvers": {"kind": "users", "users": ["sales_lead", "mkt_lead"]}, "mode": "all"},
            {"name": "Either HR", "approvers": {"kind": "users", "users": ["hr_lead", "erin"]}, "mode": "any"},
        ],
    )
    approval = submit(run_on_commit, demo["carol"], template.code, title="Chairs")
    run_on_commit(services.approval_decide, user=demo["sales_lead"], approval_id=approval.pk, decision="approve")
    approval.refresh_from_db()
    assert approval.current_step == 0  # still waiting for mkt_lead
    run_on_commit(services.approval_decide, user=demo["mkt_lead"], approval_id=approval.pk, decision="approve")
    approval.refresh_from_db()
    assert approval.current_step == 1
    run_on_commit(services.approval_decide, user=demo["erin"], approval_id=approval.pk, decision="approve")
    approval.refresh_from_db()
    assert approval.state == "approved"
    # The other or-sign approver is too late.
    with pytest.raises(ApplicationError) as error:
        services.approval_decide(user=demo["hr_lead"], approval_id=approval.pk, decision="approve")
    assert error.value.code == "conflict" and error.value.status == 409


def test_permissions(demo, run_on_commit):
    approval = submit(run_on_commit, demo["alice"], "general", title="Monitor", text="A second one")
    for user, code in [("bob", "not_found"), ("alice", "not_permitted")]:
        with pytest.raises(ApplicationError) as error:
            services.approval_decide(user=demo[user], approval_id=approval.pk, decision="approve")
        assert error.value.code == code
    with pytest.raises(ApplicationError) as error:
        services.approval_withdraw(user=demo["dev_lead"], approval_id=approval.pk)
    assert error.value.code == "not_permitted"
    run_on_commit(services.approval_withdraw, user=demo["alice"], approval_id=approval.pk)
    approval.refresh_from_db()
    assert approval.state == "withdrawn"
    with pytest.raises(ApplicationError) as error:
        services.approval_decide(user=demo["dev_lead"], approval_id=approval.pk, decision="approve")
    assert error.value.code == "conflict"


def test_idempotent_by_client_id(demo, run_on_commit):
    first, created = run_on_commit(
        services.approval_submit, requester=demo["alice"], template_code="general",
        data={"title": "t", "text": "x"}, client_id="same",
    )
    again, created_again = run_on_commit(
        services.approval_submit, requester=demo["alice"], template_code="general",
        data={"title": "t", "text": "x"}, client_id="same",
    )
    assert created and not created_again and again.pk == first.pk
    assert Approval.objects.count() == 1 and Message.objects.filter(app="approval").count() == 1


def test_malformed_forms_name_the_field(demo):
    cases = [
        ({"leave_type": "holiday", "start": "2026-12-01", "end": "2026-12-02"}, "leave_type"),
        ({"leave_type": "annual", "start": "tomorrow", "end": "2026-12-02"}, "start"),
        ({"leave_type": "annual", "start": "2026-12-03", "end": "2026-12-02"}, "end"),
        ({"leave_type": "annual", "end": "2026-12-02"}, "start"),
    ]
    for data, field in cases:
        with pytest.raises(ApplicationError) as error:
            services.approval_submit(requester=demo["alice"], template_code="leave", data=data, client_id=str(uuid.uuid4()))
        assert (error.value.code, error.value.extra["field"]) == ("invalid_field", field)
    assert not Approval.objects.exists()


def test_audit_events_are_never_changed(demo, run_on_commit):
    approval = submit(run_on_commit, demo["alice"], "general", title="t", text="x")
    event = approval.events.first()
    event.comment = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        ApprovalEvent.objects.filter(approval=approval).update(comment="x")
    with pytest.raises(PermissionError):
        ApprovalEvent.objects.filter(approval=approval).delete()


def test_finished_approvals_publish_a_domain_event(demo, run_on_commit):
    heard = []

    def listener(payload):
        heard.append(payload)

    bus.subscribe("approval.approved")(listener)
    try:
        approval = submit(run_on_commit, demo["bob"], "punch_correction", date="2026-11-20", time="09:05", kind="check_in", reason="Forgot")
        run_on_commit(services.approval_decide, user=demo["dev_lead"], approval_id=approval.pk, decision="approve")
    finally:
        bus.unsubscribe("approval.approved", listener)
    assert heard == [{
        "approval": approval.pk, "template": "punch_correction", "requester": demo["bob"].pk,
        "data": {"date": "2026-11-20", "time": "09:05", "kind": "check_in", "reason": "Forgot"}, "state": "approved",
    }]


def test_reminders(demo, run_on_commit, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.APPROVAL_REMIND_AFTER_HOURS = 1
    approval = submit(run_on_commit, demo["alice"], "general", title="t", text="x")
    approval.steps.update(started_at=timezone.now() - timedelta(hours=2))
    assert run_on_commit(services.approvals_remind) == 1
    assert Message.objects.filter(app="approval", body__event="reminder").count() == 1
    assert run_on_commit(services.approvals_remind) == 0  # not again within the hour


def test_forged_cards_are_refused(demo):
    from messaging.send import message_send

    with pytest.raises(ApplicationError) as error:
        message_send(sender=demo["alice"], to_user_id=demo["bob"].id, app="approval",
                     body={"approval": 999, "event": "approved"}, client_id="forged")
    assert error.value.code == "not_permitted"


def test_the_reminder_is_a_beat_task(demo, run_on_commit, settings):
    from datetime import timedelta

    from django.utils import timezone

    from apps_approval.tasks import remind_pending
    from imsite.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["approvals-remind"]["task"] == "apps_approval.tasks.remind_pending"
    assert "apps_approval.tasks.remind_pending" in app.tasks
    settings.APPROVAL_REMIND_AFTER_HOURS = 1
    approval = submit(run_on_commit, demo["alice"], "general", title="t", text="x")
    approval.steps.update(started_at=timezone.now() - timedelta(hours=3))
    # Run through Celery's task machinery, in this process whatever the broker.
    assert run_on_commit(lambda: remind_pending.apply().get()) == 1


def test_a_later_step_approver_is_not_permitted_yet(demo, run_on_commit):
    approval = submit(run_on_commit, demo["alice"], "leave", **leave(5))
    with pytest.raises(ApplicationError) as error:
        services.approval_decide(user=demo["president"], approval_id=approval.pk, decision="approve")
    assert error.value.code == "not_permitted"


def test_item_amounts_must_be_finite(demo):
    for amount in ("Infinity", "NaN", -5):
        with pytest.raises(ApplicationError) as error:
            services.approval_submit(requester=demo["carol"], template_code="expense", client_id=str(uuid.uuid4()),
                                     data={"amount": 5, "currency": "CNY", "items": [{"description": "x", "amount": amount}]})
        assert error.value.extra["field"] == "items"


def test_an_approval_only_opens_the_conversation_to_its_cards(demo, run_on_commit):
    from messaging.send import message_send

    submit(run_on_commit, demo["alice"], "leave", **leave(5))
    with pytest.raises(ApplicationError) as error:
        message_send(sender=demo["alice"], to_user_id=demo["president"].id, body={"text": "hello boss"}, client_id="chat-1")
    assert error.value.code == "not_permitted"
