import pytest
from django.core.management import call_command

from accounts.models import User
from contacts.models import Department, Membership, VisibilityRule

pytestmark = pytest.mark.django_db


def test_seed_demo_is_safe_to_run_twice():
    call_command("seed_demo")
    counts = (User.objects.count(), Department.objects.count(), Membership.objects.count(), VisibilityRule.objects.count())
    call_command("seed_demo")
    assert counts == (
        User.objects.count(), Department.objects.count(), Membership.objects.count(), VisibilityRule.objects.count()
    )
    assert counts[0] == 12 and counts[1] == 6


def test_seed_demo_if_empty_leaves_an_existing_database_alone():
    User.objects.create_user("someone", password="x")
    call_command("seed_demo", if_empty=True)
    assert not User.objects.filter(username="alice").exists()


def test_demo_tree_and_managers(demo):
    root = Department.objects.get(code="company")
    assert root.is_root() and root.manager.username == "president"
    assert sorted(c.code for c in Department.objects.get_children(root)) == ["dev", "hr", "marketing", "office", "sales"]
    managers = {d.code: d.manager.username for d in Department.objects.exclude(code="company")}
    assert managers == {"office": "president", "dev": "dev_lead", "sales": "sales_lead", "marketing": "mkt_lead", "hr": "hr_lead"}


def test_every_demo_password_works(demo, client):
    for username in ["admin", "alice", "president", "erin"]:
        response = client.post("/accounts/login/", {"username": username, "password": "switchboard-demo"})
        assert response.status_code == 302, username
        assert client.session["_auth_user_id"] == str(demo[username].pk)
