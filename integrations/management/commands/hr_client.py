"""Register, list and revoke integrations (the HR system's OAuth2 clients)."""

import json

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from integrations import services
from integrations.models import CLIENT_SCOPES, Client


class Command(BaseCommand):
    help = "Register (create), list or revoke OAuth2 clients of other systems, such as the HR system."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Register a client; prints one JSON line with its id and secret.")
        create.add_argument("--name", required=True)
        create.add_argument(
            "--scopes", default="openid,profile", help=f"Comma-separated, some of: {','.join(CLIENT_SCOPES)}."
        )
        create.add_argument(
            "--redirect-uri", action="append", default=[], dest="redirect_uris",
            help="Exact redirect URI for sign-in (repeat for several). Without one, only client credentials.",
        )
        sub.add_parser("list", help="One JSON line per client.")
        revoke = sub.add_parser("revoke", help="Switch a client off and end its tokens.")
        revoke.add_argument("client_id")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except ApplicationError as error:
            raise CommandError(error.detail) from None

    def _line(self, data: dict) -> None:
        self.stdout.write(json.dumps(data))

    def do_create(self, *, name, scopes, redirect_uris, **options):
        client, secret = services.client_register(
            name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()], redirect_uris=redirect_uris
        )
        self._line(
            {
                "client_id": client.application.client_id,
                "client_secret": secret,
                "name": client.application.name,
                "scopes": client.scopes,
                "redirect_uris": client.application.redirect_uris.split(),
                "service_account": client.service_account.username,
            }
        )

    def do_list(self, **options):
        for client in Client.objects.select_related("application", "service_account").order_by("created_at"):
            self._line(
                {
                    "client_id": client.application.client_id,
                    "name": client.application.name,
                    "scopes": client.scopes,
                    "redirect_uris": client.application.redirect_uris.split(),
                    "service_account": client.service_account.username,
                    "created_at": client.created_at.isoformat(),
                    "revoked": client.revoked_at is not None,
                }
            )

    def do_revoke(self, *, client_id, **options):
        client = services.client_revoke(client_id=client_id)
        self._line({"client_id": client.application.client_id, "revoked": True})
