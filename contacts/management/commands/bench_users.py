import json
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import token_issue_for_user
from contacts.demo import DEMO_PASSWORD
from contacts.events import department_people_changed_on_commit
from contacts.models import Department, Membership


class Command(BaseCommand):
    help = "Create benchmark users bench0001… in a department 'bench' that sees itself (safe to run twice)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=100)
        parser.add_argument("--tokens", type=Path, help="Write a Bearer token for each user to this JSON file.")
        parser.add_argument(
            "--team-size",
            type=int,
            default=0,
            help="Put the users in teams of this size (sub-departments of 'bench', each seeing itself) "
            "instead of all in 'bench'.",
        )

    def handle(self, *args, count: int, tokens: Path | None = None, team_size: int = 0, **options):
        with transaction.atomic():
            department = Department.objects.filter(code="bench").first()
            if department is None:
                root = Department.objects.filter(depth=1).first()
                values = {"name": "Benchmark", "code": "bench"}
                department = (
                    Department.objects.add_child(root, values) if root else Department.objects.add_root(values)
                )
            names = [f"bench{i:04d}" for i in range(1, count + 1)]
            existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
            password = make_password(DEMO_PASSWORD)
            User.objects.bulk_create(
                [User(username=n, display_name=n, password=password) for n in names if n not in existing],
                batch_size=1000,
            )
            users = list(User.objects.filter(username__in=names).order_by("username"))
            teams = [department]
            if team_size:
                teams = [
                    self._team(department, n) for n in range(1, (len(users) + team_size - 1) // team_size + 1)
                ]
            Membership.objects.filter(user__in=users).exclude(department__in=teams).delete()
            Membership.objects.bulk_create(
                [Membership(user=u, department=teams[i // team_size if team_size else 0]) for i, u in enumerate(users)],
                batch_size=1000,
                ignore_conflicts=True,
            )
            department_people_changed_on_commit()
        self.stdout.write(f"{len(users)} benchmark users in {len(teams)} department(s) under 'bench'.")
        if tokens:
            data = [
                {"id": u.pk, "username": u.username, "token": token_issue_for_user(user=u)["access_token"]}
                for u in users
            ]
            tokens.write_text(json.dumps(data))
            self.stdout.write(f"Tokens written to {tokens}.")

    @staticmethod
    def _team(parent: Department, number: int) -> Department:
        code = f"bench-{number:03d}"
        team = Department.objects.filter(code=code).first()
        if team is None:
            parent.refresh_from_db()
            team = Department.objects.add_child(parent, {"name": f"Benchmark team {number}", "code": code})
        return team
