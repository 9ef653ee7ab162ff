"""The direct transport's settings are usable, or the site does not start: a typo in
ICE_SERVERS would otherwise break every direct connection silently (``manage.py check``;
every worker runs the checks as it starts)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from core.conf import Unparsed

ICE_SCHEMES = {"stun", "stuns", "turn", "turns"}


def ice_servers_problem(servers) -> str | None:
    """What is wrong with ``servers``, a list of RTCIceServer dicts; None if nothing."""
    if isinstance(servers, Unparsed):
        return f"ICE_SERVERS is not valid JSON: {servers.error}"
    if not isinstance(servers, list):
        return 'ICE_SERVERS must be a JSON list, e.g. [{"urls": "stun:stun.example.com:3478"}].'
    for index, server in enumerate(servers):
        urls = server.get("urls") if isinstance(server, dict) else None
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list) or not urls or not all(
            isinstance(url, str) and url.split(":", 1)[0] in ICE_SCHEMES for url in urls
        ):
            return f'ICE_SERVERS[{index}] needs "urls": one or more stun:, stuns:, turn: or turns: URLs.'
        unknown = set(server) - {"urls", "username", "credential"}
        if unknown:
            return f"ICE_SERVERS[{index}] has unknown keys: {', '.join(sorted(unknown))}."
        if not all(isinstance(server.get(key, ""), str) for key in ("username", "credential")):
            return f"ICE_SERVERS[{index}]: username and credential must be strings."
    return None


@register()
def transport_check(app_configs, **kwargs) -> list[Error]:
    errors = []
    problem = ice_servers_problem(settings.ICE_SERVERS)
    if problem:
        errors.append(Error(problem, id="messaging.E001"))
    if not settings.P2P_CONNECT_TIMEOUT_MS > 0:
        errors.append(Error("P2P_CONNECT_TIMEOUT_MS must be a positive number of milliseconds.", id="messaging.E002"))
    return errors
