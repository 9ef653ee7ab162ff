"""The demo organisation (docs/architecture.md): five departments under one company root."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import User

from .events import demo_seeded, department_people_changed_on_commit
from .models import Department, Membership, VisibilityRule

DEMO_PASSWORD = "switchboard-demo"
ROOT_CODE = "company"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    title: str
    department: str
    manager: bool = False


PEOPLE = [
    DemoPerson("president", "Helen Zhou", "President", "office", manager=True),
    DemoPerson("secretary", "Sam Reed", "Executive Secretary", "office"),
    DemoPerson("dev_lead", "Diego Alvarez", "Head of Development", "dev", manager=True),
    DemoPerson("alice", "Alice Wang", "Software Engineer", "dev"),
    DemoPerson("bob", "Bob Martin", "Software Engineer", "dev"),
    DemoPerson("sales_lead", "Sara Kim", "Head of Sales", "sales", manager=True),
    DemoPerson("carol", "Carol Davis", "Account Executive", "sales"),
    DemoPerson("mkt_lead", "Mark Liu", "Head of Marketing", "marketing", manager=True),
    DemoPerson("dave", "Dave Brown", "Marketing Specialist", "marketing"),
    DemoPerson("hr_lead", "Hannah Scott", "Head of Human Resources", "hr", manager=True),
    DemoPerson("erin", "Erin Li", "HR Specialist", "hr"),
]

DEPARTMENTS = [
    ("office", "President's Office"),
    ("dev", "Development"),
    ("sales", "Sales"),
    ("marketing", "Marketing"),
    ("hr", "Human Resources"),
]

# (department, kind, targets): the paper's own examples. Marketing and HR have no rule,
# so each sees itself.
RULES = [
    ("dev", VisibilityRule.Kind.DEPARTMENTS, ["dev"]),
    ("sales", VisibilityRule.Kind.DEPARTMENTS, ["sales", "marketing"]),
    ("office", VisibilityRule.Kind.OWN_DEPARTMENT, []),
    ("office", VisibilityRule.Kind.ALL_MANAGERS, []),
]


def _user_get_or_create(*, username: str, password_hash: str, **fields) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={**fields, "password": password_hash})
    return user


@transaction.atomic
def demo_organisation_seed(*, history: bool = False) -> dict[str, int]:
    """Create what is missing of the demo organisation; what exists is left as it is.
    ``history``: the apps may also add some past activity (``demo_seeded``'s argument)."""
    # One hash for every demo account: they share the published demo password anyway,
    # and hashing once keeps seeding fast.
    password_hash = make_password(DEMO_PASSWORD)
    users_before = User.objects.count()

    admin = _user_get_or_create(
        username="admin",
        password_hash=password_hash,
        display_name="Administrator",
        email="admin@demo.switchboard.example",
        is_staff=True,
        is_superuser=True,
    )
    users = {"admin": admin}
    for number, person in enumerate(PEOPLE, start=1):
        first, _space, last = person.display_name.partition(" ")
        users[person.username] = _user_get_or_create(
            username=person.username,
            password_hash=password_hash,
            display_name=person.display_name,
            first_name=first,
            last_name=last,
            title=person.title,
            email=f"{person.username}@demo.switchboard.example",
            employee_number=f"E{number:04d}",
        )

    root = Department.objects.filter(code=ROOT_CODE).first()
    if root is None:
        root = Department.objects.add_root(
            {"name": "Switchboard Demo Co.", "code": ROOT_CODE, "manager": users["president"]}
        )
    departments = {ROOT_CODE: root}
    for code, name in DEPARTMENTS:
        department = Department.objects.filter(code=code).first()
        if department is None:
            root.refresh_from_db()
            department = Department.objects.add_child(root, {"name": name, "code": code})
        departments[code] = department

    for person in PEOPLE:
        department = departments[person.department]
        if person.manager and department.manager_id is None:
            department.manager = users[person.username]
            department.save(update_fields=["manager"])
        Membership.objects.get_or_create(
            user=users[person.username],
            department=department,
            defaults={"title": person.title, "is_primary": True},
        )

    for code, kind, targets in RULES:
        department = departments[code]
        rule = VisibilityRule.objects.filter(department=department, kind=kind).first()
        if rule is None:
            rule = VisibilityRule.objects.create(department=department, kind=kind)
            rule.targets.set([departments[t] for t in targets])

    department_people_changed_on_commit()
    demo_seeded.send(sender=None, history=history)
    return {"users_created": User.objects.count() - users_before}
