import json
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, set_token_value
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import generate_token

from accounts.models import User
from accounts.services import FIRST_PARTY_SCOPES, first_party_application_get_or_create
from contacts.demo import DEMO_PASSWORD
from contacts.events import department_people_changed_on_commit
from contacts.models import Department, Membership

BATCH = 1000


class Command(BaseCommand):
    help = (
        "Create benchmark users bench0001… in a department 'bench' that sees itself, or in teams under it. "
        "Safe to run again: each run moves the users to the layout asked for, and takes benchmark users "
        "beyond --count out of the benchmark departments."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=100, help="How many users (up to 99999).")
        parser.add_argument("--tokens", type=Path, help="Write a Bearer token for each user to this JSON file.")
        parser.add_argument(
            "--team-size",
            type=int,
            default=0,
            help="Put the users in teams of this size (sub-departments of 'bench', each seeing itself) "
            "instead of all in 'bench'.",
        )

    def handle(self, *args, count: int, tokens: Path | None = None, team_size: int = 0, **options):
        if count < 1 or count > 99_999 or team_size < 0:
            raise CommandError("--count must be 1 to 99999 and --team-size 0 or more.")
        with transaction.atomic():
            department = self._bench_department()
            users = self._users(count)
            teams = self._teams(department, count, team_size) if team_size else [department]
            touched = self._place(users, teams, team_size or count)
            touched |= self._set_aside(department, users)
            # The department conversations follow on commit (messaging syncs them), so a
            # fan-out benchmark finds every member of its department in the conversation.
            department_people_changed_on_commit(department_ids=touched | {department.pk})
        self.stdout.write(f"{len(users)} benchmark users in {len(teams)} department(s) under 'bench'.")
        if tokens:
            data = self._tokens(users)
            tokens.parent.mkdir(parents=True, exist_ok=True)
            tokens.write_text(json.dumps(data))
            self.stdout.write(f"Tokens written to {tokens}.")

    @staticmethod
    def _tokens(users: list[User]) -> list[dict]:
        """A Bearer token per user, in bulk: the access-token rows ``token_issue_for_user``
        writes (django-oauth-toolkit's model, stored hashed by its own helper), without the
        refresh tokens a benchmark never uses; a thousand a query instead of five queries a
        token, which took most of a minute for 10,000 users."""
        AccessToken = get_access_token_model()
        application = first_party_application_get_or_create()
        expires = timezone.now() + timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        rows, data = [], []
        for user in users:
            raw = generate_token()
            row = AccessToken(user=user, application=application, expires=expires, scope=" ".join(FIRST_PARTY_SCOPES))
            set_token_value(row, raw)
            rows.append(row)
            data.append({"id": user.pk, "username": user.username, "token": raw})
        AccessToken.objects.bulk_create(rows, batch_size=BATCH)
        return data

    @staticmethod
    def _bench_department() -> Department:
        department = Department.objects.filter(code="bench").first()
        if department is None:
            root = Department.objects.filter(depth=1).first()
            values = {"name": "Benchmark", "code": "bench"}
            department = Department.objects.add_child(root, values) if root else Department.objects.add_root(values)
        return department

    @staticmethod
    def _users(count: int) -> list[User]:
        names = [f"bench{i:04d}" for i in range(1, count + 1)]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        # One hash for everyone: the default hasher costs a third of a second a password.
        password = make_password(DEMO_PASSWORD)
        User.objects.bulk_create(
            [User(username=n, display_name=n, password=password) for n in names if n not in existing],
            batch_size=BATCH,
        )
        # In number order (bench10000 after bench9999), so that the first N tokens are
        # always the same N users.
        return sorted(User.objects.filter(username__in=names), key=lambda u: int(u.username.removeprefix("bench")))

    @staticmethod
    def _teams(parent: Department, count: int, team_size: int) -> list[Department]:
        wanted = (count + team_size - 1) // team_size
        codes = [f"bench-{n:03d}" for n in range(1, wanted + 1)]
        existing = {d.code: d for d in Department.objects.filter(code__in=codes)}
        teams = []
        for number, code in enumerate(codes, start=1):
            team = existing.get(code)
            if team is None:
                parent.refresh_from_db()
                # Zero-padded names sort in creation order, so the sorted tree appends each
                # team after its siblings instead of renumbering them all.
                team = Department.objects.add_child(parent, {"name": f"Benchmark team {number:03d}", "code": code})
            teams.append(team)
        return teams

    @staticmethod
    def _set_aside(department: Department, users: list[User]) -> set[int]:
        """Take benchmark users beyond ``--count`` (from an earlier, larger run) out of the
        benchmark departments, so that a department holds exactly the users asked for."""
        others = Membership.objects.filter(department__path__startswith=department.path).exclude(
            user__in=users
        )
        touched = set(others.values_list("department_id", flat=True).distinct())
        others.delete()
        return touched

    @staticmethod
    def _place(users: list[User], teams: list[Department], per_team: int) -> set[int]:
        """Give each user exactly one membership, in their team; the departments touched."""
        placement = {u.pk: teams[i // per_team].pk for i, u in enumerate(users)}
        current = list(
            Membership.objects.filter(user_id__in=list(placement)).values_list("pk", "user_id", "department_id")
        )
        stale = [(pk, did) for pk, uid, did in current if placement[uid] != did]
        for start in range(0, len(stale), BATCH):
            Membership.objects.filter(pk__in=[pk for pk, _did in stale[start : start + BATCH]]).delete()
        placed = {(uid, did) for _pk, uid, did in current}
        missing = [(uid, did) for uid, did in placement.items() if (uid, did) not in placed]
        Membership.objects.bulk_create(
            [Membership(user_id=uid, department_id=did) for uid, did in missing],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        return {did for _pk, did in stale} | {did for _uid, did in missing}
