import pytest

from apps_attendance.models import Punch

pytestmark = pytest.mark.django_db


def test_check_in_and_out(demo, api_for):
    bob = api_for(demo["bob"])
    checked_in = bob.post("/api/v1/attendance/check-in/")
    assert checked_in.status_code == 201 and checked_in.json()["kind"] == "check_in"
    assert checked_in.json()["source"] == "api" and checked_in.json()["address"] == "127.0.0.1"
    assert bob.post("/api/v1/attendance/check-out/").status_code == 201
    assert Punch.objects.filter(user=demo["bob"]).count() == 2


def test_days_for_me_and_for_my_department(demo, api_for):
    api_for(demo["alice"]).post("/api/v1/attendance/check-in/")
    from django.utils import timezone

    month = timezone.localdate().strftime("%Y-%m")
    mine = api_for(demo["alice"]).get("/api/v1/attendance/days/", {"month": month}).json()
    today = next(d for d in mine if d["date"] == timezone.localdate().isoformat())
    assert today["punches"][0]["kind"] == "check_in" and today["status"] in ("missing_punch", "late", "rest_day")
    team = api_for(demo["dev_lead"]).get("/api/v1/attendance/days/", {"month": month, "department": "dev"}).json()
    assert {d["user"] for d in team} == {"dev_lead", "alice", "bob"}
    assert api_for(demo["dev_lead"]).get("/api/v1/attendance/days/", {"month": month, "user": "alice"}).status_code == 200
    for params in ({"department": "sales"}, {"user": "carol"}):
        refused = api_for(demo["dev_lead"]).get("/api/v1/attendance/days/", {"month": month, **params})
        assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
    assert api_for(demo["alice"]).get("/api/v1/attendance/days/", {"month": month, "department": "dev"}).status_code == 403
    assert api_for(demo["alice"]).get("/api/v1/attendance/days/", {"month": "November"}).status_code == 400


def test_a_manager_sees_the_departments_below_theirs(demo, api_for):
    from django.utils import timezone

    month = timezone.localdate().strftime("%Y-%m")
    company = api_for(demo["president"]).get("/api/v1/attendance/days/", {"month": month, "department": "company"})
    assert company.status_code == 200
    assert {d["user"] for d in company.json()} == {
        "president", "secretary", "dev_lead", "alice", "bob", "sales_lead", "carol", "mkt_lead", "dave", "hr_lead", "erin",
    }
    assert api_for(demo["president"]).get("/api/v1/attendance/days/", {"month": month, "user": "carol"}).status_code == 200


def test_a_manager_asks_for_a_department_below_theirs_by_its_code(demo, api_for):
    from django.utils import timezone

    from contacts.models import Department, Membership

    month = timezone.localdate().strftime("%Y-%m")
    dev = Department.objects.get(code="dev")
    platform = Department.objects.add_child(dev, {"name": "Platform", "code": "platform", "manager": demo["bob"]})
    Membership.objects.filter(user=demo["alice"]).update(department=platform)

    def asked(viewer: str, code: str):
        return api_for(demo[viewer]).get("/api/v1/attendance/days/", {"month": month, "department": code})

    # The president manages the root: every department below it, at any depth.
    for code, people in [("dev", {"dev_lead", "alice", "bob"}), ("sales", {"sales_lead", "carol"}),
                         ("platform", {"alice"})]:
        response = asked("president", code)
        assert response.status_code == 200, (code, response.content)
        assert {d["user"] for d in response.json()} == people
    # The manager of dev sees its sub-department; the sub-department's manager only theirs.
    assert {d["user"] for d in asked("dev_lead", "platform").json()} == {"alice"}
    assert {d["user"] for d in asked("bob", "platform").json()} == {"alice"}
    for viewer, code in [("bob", "dev"), ("sales_lead", "platform"), ("sales_lead", "dev"), ("dev_lead", "company"),
                         ("alice", "platform"), ("president", "nonsense")]:
        refused = asked(viewer, code)
        assert refused.status_code == 403 and refused.json()["code"] == "not_permitted", (viewer, code)
