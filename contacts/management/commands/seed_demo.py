from django.core.management.base import BaseCommand

from accounts.models import User
from contacts.demo import DEMO_PASSWORD, demo_organisation_seed


class Command(BaseCommand):
    help = "Load the demo organisation (safe to run again: it only adds what is missing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users.",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Leave out the past weeks of attendance that make the demo's calendars lively.",
        )

    def handle(self, *args, if_empty: bool = False, no_history: bool = False, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has users; the demo organisation was not loaded.")
            return
        result = demo_organisation_seed(history=not no_history)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organisation ready ({result['users_created']} users created). "
                f"Every demo user's password is {DEMO_PASSWORD!r}; the superuser is 'admin'."
            )
        )
