"""Every rule kind, the default rule, the reply rule and friendship, on the demo organisation."""

import pytest

from contacts import policy
from contacts.models import Department, FriendRequest, Membership, VisibilityRule

pytestmark = pytest.mark.django_db


def usernames(ids, demo):
    by_id = {u.id: name for name, u in demo.items()}
    return sorted(by_id[i] for i in ids)


@pytest.mark.parametrize(
    "username, expected",
    [
        ("alice", ["bob", "dev_lead"]),
        ("carol", ["dave", "mkt_lead", "sales_lead"]),
        ("president", ["dev_lead", "hr_lead", "mkt_lead", "sales_lead", "secretary"]),
        ("dave", ["mkt_lead"]),
        ("erin", ["hr_lead"]),
    ],
)
def test_demo_contacts_are_as_designed(demo, username, expected):
    assert usernames(policy.contact_ids(demo[username]), demo) == expected


def test_listed_departments_rule(demo):
    # Sales sees Sales and Marketing.
    assert policy.may_see(demo["carol"], demo["dave"])
    assert policy.may_see(demo["carol"], demo["mkt_lead"])
    assert not policy.may_see(demo["carol"], demo["alice"])


def test_own_department_rule_and_no_rule_default(demo):
    # President's Office has an explicit own-department rule; HR has no rule at all.
    assert policy.may_see(demo["president"], demo["secretary"])
    assert policy.may_see(demo["erin"], demo["hr_lead"])
    assert not policy.may_see(demo["erin"], demo["alice"])
    explanation = policy.explain(demo["erin"], demo["hr_lead"])
    assert any("no rule, so it sees itself" in r for r in explanation.reasons)


def test_all_managers_rule(demo):
    for manager in ["dev_lead", "sales_lead", "mkt_lead", "hr_lead"]:
        assert policy.may_see(demo["president"], demo[manager])
    assert not policy.may_see(demo["president"], demo["alice"])


def test_reply_rule_lets_the_seen_person_answer(demo):
    # Carol sees Dave; Dave does not see Carol, but may reply to her.
    assert not policy.may_see(demo["dave"], demo["carol"])
    assert policy.may_talk(demo["dave"], demo["carol"])
    assert policy.may_talk(demo["carol"], demo["dave"])
    explanation = policy.explain(demo["dave"], demo["carol"])
    assert explanation.may_talk and not explanation.may_see
    assert "so dave may reply" in explanation.reasons[0]


def test_no_rule_means_no_talk(demo):
    assert not policy.may_talk(demo["alice"], demo["carol"])
    explanation = policy.explain(demo["alice"], demo["carol"])
    assert not explanation.may_talk
    assert explanation.reasons == ["No rule or friendship lets alice see or talk to carol."]


def test_accepted_friendship_grants_both_ways(demo):
    FriendRequest.objects.create(
        from_user=demo["alice"], to_user=demo["carol"], status=FriendRequest.Status.ACCEPTED
    )
    assert policy.may_see(demo["alice"], demo["carol"])
    assert policy.may_see(demo["carol"], demo["alice"])
    assert policy.may_talk(demo["carol"], demo["alice"])
    assert demo["carol"].id in policy.contact_ids(demo["alice"])
    assert "are friends" in policy.explain(demo["alice"], demo["carol"]).reasons[-1]


def test_pending_or_declined_request_grants_nothing(demo):
    FriendRequest.objects.create(from_user=demo["alice"], to_user=demo["carol"])
    FriendRequest.objects.create(
        from_user=demo["bob"], to_user=demo["carol"], status=FriendRequest.Status.DECLINED
    )
    assert not policy.may_talk(demo["alice"], demo["carol"])
    assert not policy.may_talk(demo["bob"], demo["carol"])


def test_sub_departments_follow_the_rule_flag(demo):
    dev = Department.objects.get(code="dev")
    platform = Department.objects.add_child(dev, {"name": "Platform", "code": "platform"})
    ops = demo["erin"]  # move erin into the new team for the test
    Membership.objects.filter(user=ops).delete()
    Membership.objects.create(user=ops, department=platform)
    rule = VisibilityRule.objects.get(department__code="sales", kind=VisibilityRule.Kind.DEPARTMENTS)
    rule.targets.add(dev)
    assert policy.may_see(demo["carol"], ops)
    rule.include_subdepartments = False
    rule.save(update_fields=["include_subdepartments"])
    assert not policy.may_see(demo["carol"], ops)
    assert policy.may_see(demo["carol"], demo["alice"])


def test_deactivated_people_are_nobody_s_contacts(demo):
    bob = demo["bob"]
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert bob.id not in policy.contact_ids(demo["alice"])
    assert not policy.may_talk(demo["alice"], bob)


def test_rules_are_data_an_admin_can_change(demo):
    VisibilityRule.objects.create(department=Department.objects.get(code="hr"), kind="all_managers")
    # HR now sees every manager and, having a rule, no longer sees itself by default.
    assert usernames(policy.contact_ids(demo["erin"]), demo) == [
        "dev_lead", "hr_lead", "mkt_lead", "president", "sales_lead",
    ]


def test_policy_class_is_swappable(demo, settings):
    settings.SWITCHBOARD_POLICY_CLASS = "contacts.tests.test_policy.EveryoneSeesEveryone"
    assert policy.may_talk(demo["alice"], demo["carol"])
    settings.SWITCHBOARD_POLICY_CLASS = "contacts.policy.RulePolicy"
    assert not policy.may_talk(demo["alice"], demo["carol"])


class EveryoneSeesEveryone(policy.RulePolicy):
    def may_talk(self, a, b):
        return a.pk != b.pk


# --- the worker's cache of people's departments and grants ---------------------------------


def test_a_known_pair_is_decided_in_one_query(demo, django_assert_num_queries):
    alice, bob = demo["alice"], demo["bob"]
    assert policy.may_talk(alice, bob)
    with django_assert_num_queries(1):  # the policy version
        assert policy.may_talk(alice, bob)


@pytest.mark.parametrize(
    "change",
    [
        # Writes that send no signal, each of which takes bob out of alice's sight.
        lambda demo: Membership.objects.filter(user=demo["bob"]).update(
            department=Department.objects.get(code="hr")
        ),
        lambda demo: Membership.objects.filter(user=demo["bob"]).delete(),
        lambda demo: _raw("UPDATE contacts_membership SET department_id = %s WHERE user_id = %s",
                          [Department.objects.get(code="hr").pk, demo["bob"].pk]),
    ],
    ids=["update", "delete", "raw_sql"],
)
def test_every_write_to_the_policy_tables_is_seen_at_once(demo, change):
    alice, bob = demo["alice"], demo["bob"]
    assert policy.may_talk(alice, bob) and policy.may_see(alice, bob)
    change(demo)
    assert not policy.may_see(alice, bob)
    assert not policy.may_talk(alice, bob)


def test_a_bulk_created_rule_is_seen_at_once(demo):
    erin, dev_lead = demo["erin"], demo["dev_lead"]
    assert not policy.may_see(erin, dev_lead)
    VisibilityRule.objects.bulk_create([VisibilityRule(department=Department.objects.get(code="hr"), kind="all_managers")])
    assert policy.may_see(erin, dev_lead)


def test_a_subtree_move_is_seen_at_once(demo):
    # treebeard moves a subtree by rewriting paths with its own SQL.
    dev, sales = Department.objects.get(code="dev"), Department.objects.get(code="sales")
    platform = Department.objects.add_child(dev, {"name": "Platform", "code": "platform"})
    Membership.objects.create(user=demo["erin"], department=platform, is_primary=False)
    assert not policy.may_see(demo["carol"], demo["erin"])
    Department.objects.move(Department.objects.get(pk=platform.pk), sales, pos="sorted-child")
    assert policy.may_see(demo["carol"], demo["erin"])


def test_a_rolled_back_version_is_never_used_again(demo):
    from django.db import transaction

    before = policy.policy_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        Membership.objects.filter(user=demo["bob"]).delete()
        inside = policy.policy_version()
        assert inside != before
        assert not policy.may_see(demo["alice"], demo["bob"])  # known at `inside`
        raise RuntimeError
    assert policy.policy_version() == before
    assert policy.may_see(demo["alice"], demo["bob"])
    Membership.objects.filter(user=demo["carol"]).update(title="Seller")
    assert policy.policy_version() not in (before, inside)
    assert policy.may_see(demo["alice"], demo["bob"])


def _raw(sql, params):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_many_pairs_read_friendship_in_one_query_and_decide_as_one_by_one(demo, django_assert_max_num_queries):
    FriendRequest.objects.create(
        from_user=demo["alice"], to_user=demo["carol"], status=FriendRequest.Status.ACCEPTED
    )
    people = sorted(demo.values(), key=lambda u: u.pk)
    pairs = [(a, b) for a in people for b in people] * 2  # past FRIEND_PAIRS_ONE_BY_ONE
    assert len(pairs) > policy.FRIEND_PAIRS_ONE_BY_ONE
    policy.may_talk_many([(p, p) for p in people])  # the people's grants, kept
    with django_assert_max_num_queries(3):
        decisions = policy.may_talk_many(pairs)
    assert decisions == [policy.may_talk(a, b) for a, b in pairs]
    assert policy.may_talk(demo["alice"], demo["carol"])
