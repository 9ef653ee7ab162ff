"""manage.py bench_users: the layouts the benchmark scenarios need, safe to run again."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.selectors import access_token_get_valid
from contacts import policy
from contacts.models import Department, Membership
from messaging.models import Conversation

pytestmark = pytest.mark.django_db


def bench_users(**options) -> None:
    # Run the department conversations' sync, which follows the commit, inside the test.
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("bench_users", stdout=io.StringIO(), **options)


def members(code: str) -> set[str]:
    conversation = Conversation.objects.get(department__code=code)
    return set(conversation.memberships.values_list("user__username", flat=True))


def names(first: int, last: int) -> set[str]:
    return {f"bench{n:04d}" for n in range(first, last + 1)}


def test_one_department_that_sees_itself_with_its_conversation():
    bench_users(count=12)

    assert members("bench") == names(1, 12)
    first, last = User.objects.get(username="bench0001"), User.objects.get(username="bench0012")
    assert policy.may_talk(first, last)
    assert first.check_password("switchboard-demo")


def test_running_again_changes_nothing():
    bench_users(count=12)
    before = (User.objects.count(), sorted(Membership.objects.values_list("user_id", "department_id")))
    bench_users(count=12)
    assert (User.objects.count(), sorted(Membership.objects.values_list("user_id", "department_id"))) == before
    assert members("bench") == names(1, 12)


def test_teams_and_back_to_one_department():
    bench_users(count=10, team_size=4)
    assert (members("bench-001"), members("bench-002"), members("bench-003")) == (
        names(1, 4), names(5, 8), names(9, 10)
    )
    assert members("bench") == set()
    a, b = User.objects.get(username="bench0001"), User.objects.get(username="bench0005")
    assert not policy.may_talk(a, b)

    bench_users(count=10)
    assert members("bench") == names(1, 10)
    assert members("bench-001") == set()
    assert Membership.objects.filter(user__username__startswith="bench").count() == 10


def test_a_smaller_count_sets_the_rest_aside():
    bench_users(count=10)
    bench_users(count=6)
    assert members("bench") == names(1, 6)
    assert not Membership.objects.filter(user__username__in=names(7, 10)).exists()


def test_tokens_authenticate_their_users(tmp_path):
    path = tmp_path / "tokens.json"
    bench_users(count=5, tokens=path)
    tokens = json.loads(path.read_text())
    assert [t["username"] for t in tokens] == sorted(names(1, 5))
    for entry in tokens:
        access = access_token_get_valid(entry["token"])
        assert (access.user.pk, access.user.username) == (entry["id"], entry["username"])
        assert set(access.scope.split()) == {"read", "write"}


@pytest.mark.parametrize("count", [20, 400])
def test_queries_do_not_grow_with_the_number_of_users(count, tmp_path):
    bench_users(count=1)  # the department and its conversation exist
    with CaptureQueriesContext(connection) as queries:
        bench_users(count=count, team_size=count // 4, tokens=tmp_path / "tokens.json")
    # Four teams whatever the count: creating teams costs queries, users and tokens do not.
    assert Department.objects.filter(code__startswith="bench-").count() == 4
    assert len(queries) <= 120
