"""Protocol v1 over the real ASGI application: every frame type and every error code."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client as HttpClient

from messaging.models import Connection, Message
from messaging.registry import AppHandler, app_handlers, register_app_handler

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def cid() -> str:
    return str(uuid.uuid4())


def send_frame(to=None, conversation=None, text="hello", **extra):
    frame = {"type": "send", "client_id": cid(), "body": {"text": text}, **extra}
    if to is not None:
        frame["to"] = to
    if conversation is not None:
        frame["conversation"] = conversation
    return frame


count_messages = database_sync_to_async(lambda **kw: Message.objects.filter(**kw).count())


# --- connecting ---------------------------------------------------------------------------


async def test_anonymous_and_bad_tokens_are_refused(demo, connect):
    assert await connect(headers=[]) is None  # no cookie, no Origin, no token
    assert await connect(headers=[(b"authorization", b"Bearer not-a-token")]) is None
    assert await connect(headers=[(b"authorization", b"Basic YWxpY2U6eA==")]) is None


async def test_bearer_connection_says_hello(demo, connect):
    alice = await connect(demo["alice"])
    assert alice.hello["user"] == {"id": demo["alice"].id, "username": "alice", "display_name": "Alice Wang"}
    assert alice.hello["server"] == settings.SWITCHBOARD_WORKER_NAME
    assert alice.hello["last_message_id"] == 0
    connection = await database_sync_to_async(Connection.objects.get)(user=demo["alice"])
    assert connection.remote_address == "127.0.0.1" and connection.remote_port and connection.auth == "bearer"
    await alice.close()
    connection = await database_sync_to_async(Connection.objects.get)(pk=connection.pk)
    assert connection.closed_at is not None


async def test_browser_session_needs_the_site_origin(demo, connect):
    http = HttpClient()
    await database_sync_to_async(http.force_login)(demo["alice"])
    cookie = f"sessionid={http.cookies['sessionid'].value}".encode()
    site = [(b"cookie", cookie), (b"host", b"127.0.0.1:8000")]
    good = await connect(headers=[*site, (b"origin", b"http://127.0.0.1:8000")])
    assert good is not None and good.hello["user"]["username"] == "alice"
    await good.close()
    for origin in [
        b"https://evil.example",
        b"http://127.0.0.1:8001",  # another port of the same host: another site
        b"https://127.0.0.1:8000",  # another scheme
        b"http://localhost:8000",  # an allowed host, but not the one this site was opened on
        b"null",
    ]:
        assert await connect(headers=[*site, (b"origin", origin)]) is None, origin
    assert await connect(headers=site) is None  # no Origin at all
    # A Host that is not one of ALLOWED_HOSTS is no site of ours, whatever the Origin says.
    assert await connect(headers=[(b"cookie", cookie), (b"host", b"evil.example"), (b"origin", b"http://evil.example")]) is None


async def test_browser_origins_listed_in_settings_and_behind_the_proxy(demo, connect, settings):
    http = HttpClient()
    await database_sync_to_async(http.force_login)(demo["alice"])
    cookie = (b"cookie", f"sessionid={http.cookies['sessionid'].value}".encode())
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com", "https://*.corp.example"]
    for origin in [b"https://chat.example.com", b"https://app.corp.example", b"https://chat.example.com:443"]:
        client = await connect(headers=[cookie, (b"host", b"127.0.0.1:8000"), (b"origin", origin)])
        assert client is not None, origin
        await client.close()
    for origin in [b"http://chat.example.com", b"https://chat.example.com:8443", b"https://corp.example.evil"]:
        assert await connect(headers=[cookie, (b"host", b"127.0.0.1:8000"), (b"origin", origin)]) is None, origin
    # Behind the proxy the scheme is what X-Forwarded-Proto says.
    settings.BEHIND_PROXY = True
    proxied = [cookie, (b"host", b"localhost"), (b"x-forwarded-proto", b"https")]
    client = await connect(headers=[*proxied, (b"origin", b"https://localhost")])
    assert client is not None
    await client.close()
    assert await connect(headers=[*proxied, (b"origin", b"http://localhost")]) is None


# --- sending and delivery -------------------------------------------------------------------


async def test_send_acks_after_commit_and_reaches_every_device(demo, connect):
    alice, alice_phone = await connect(demo["alice"]), await connect(demo["alice"])
    bob = await connect(demo["bob"])
    frame = send_frame(to=demo["bob"].id, text="Hi *Bob*")
    await alice.send(frame)
    ack = await alice.recv_type("ack")
    assert ack["client_id"] == frame["client_id"] and ack["seq"] == 1
    stored = await database_sync_to_async(Message.objects.get)(pk=ack["id"])
    assert stored.body == {"text": "Hi *Bob*", "html": "<p>Hi <em>Bob</em></p>"}

    received = await bob.recv_type("message")
    assert received == {
        "type": "message",
        "id": ack["id"],
        "conversation": ack["conversation"],
        "seq": 1,
        "sender": demo["alice"].id,
        "app": "chat",
        "body": {"text": "Hi *Bob*", "html": "<p>Hi <em>Bob</em></p>"},
        "created_at": ack["created_at"],
        "client_id": frame["client_id"],
        "edited_at": None,
        "recalled": False,
        "mentions": [],
        "reply_to": None,
        "forwarded": False,
        "reactions": [],
    }
    assert (await alice_phone.recv_type("message"))["id"] == ack["id"]
    # The sending connection has its ack and gets no copy.
    assert await alice.no("message")
    for client in (alice, alice_phone, bob):
        await client.close()


async def test_seqs_are_gap_free_and_sends_idempotent(demo, connect):
    alice = await connect(demo["alice"])
    frame = send_frame(to=demo["bob"].id)
    await alice.send(frame)
    first = await alice.recv_type("ack")
    await alice.send(frame)  # the same client_id again
    again = await alice.recv_type("ack")
    assert again == first
    assert await count_messages(sender=demo["alice"]) == 1
    for n in range(2, 6):
        await alice.send(send_frame(conversation=first["conversation"], text=f"n{n}"))
        assert (await alice.recv_type("ack"))["seq"] == n
    await alice.close()


async def test_sync_replays_exactly_what_was_missed(demo, connect):
    alice = await connect(demo["alice"])
    await alice.send(send_frame(to=demo["bob"].id, text="one"))
    first = await alice.recv_type("ack")
    bob = await connect(demo["bob"])
    assert bob.hello["last_message_id"] == first["id"]
    await bob.close()  # bob goes away; two more arrive meanwhile
    for text in ("two", "three"):
        await alice.send(send_frame(conversation=first["conversation"], text=text))
        await alice.recv_type("ack")
    bob = await connect(demo["bob"])
    await bob.send({"type": "sync", "after": first["id"]})
    replayed = [await bob.recv_type("message"), await bob.recv_type("message")]
    assert [m["body"]["text"] for m in replayed] == ["two", "three"]
    assert [m["seq"] for m in replayed] == [2, 3]
    assert await bob.nothing()
    # Another user's conversations are not replayed to bob.
    carol = await connect(demo["carol"])
    await carol.send({"type": "sync", "after": 0})
    assert await carol.nothing()
    for client in (alice, bob, carol):
        await client.close()


async def test_read_receipts_go_to_the_other_members(demo, connect):
    alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
    await alice.send(send_frame(to=demo["bob"].id))
    ack = await alice.recv_type("ack")
    await bob.recv_type("message")
    await bob.send({"type": "read", "conversation": ack["conversation"], "seq": ack["seq"]})
    receipt = await alice.recv_type("receipt")
    assert receipt == {"type": "receipt", "conversation": ack["conversation"], "user": demo["bob"].id, "seq": 1}
    await bob.send({"type": "read", "conversation": ack["conversation"] + 999, "seq": 1})
    assert (await bob.recv_type("error"))["code"] == "not_found"
    await alice.close()
    await bob.close()


async def test_typing_is_forwarded_and_throttled(demo, connect):
    alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
    await alice.send(send_frame(to=demo["bob"].id))
    ack = await alice.recv_type("ack")
    await bob.recv_type("message")
    await alice.send({"type": "typing", "conversation": ack["conversation"]})
    assert await bob.recv_type("typing") == {"type": "typing", "conversation": ack["conversation"], "user": demo["alice"].id}
    await alice.send({"type": "typing", "conversation": ack["conversation"]})  # too soon: dropped
    assert await bob.nothing()
    carol = await connect(demo["carol"])
    await carol.send({"type": "typing", "conversation": ack["conversation"]})
    assert (await carol.recv_type("error"))["code"] == "not_found"
    for client in (alice, bob, carol):
        await client.close()


async def test_signal_only_between_people_who_may_talk(demo, connect):
    alice, bob, carol = await connect(demo["alice"]), await connect(demo["bob"]), await connect(demo["carol"])
    offer = {"kind": "offer", "sdp": "v=0..."}
    await alice.send({"type": "signal", "to": demo["bob"].id, "data": offer})
    assert await bob.recv_type("signal") == {"type": "signal", "from": demo["alice"].id, "data": offer}
    candidate = {"kind": "candidate", "candidate": {"candidate": "candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host"}}
    for data in (offer, candidate):
        await alice.send({"type": "signal", "to": demo["carol"].id, "data": data})
        assert (await alice.recv_type("error"))["code"] == "not_permitted"
    assert await carol.nothing()
    for client in (alice, bob, carol):
        await client.close()


async def test_ping_pong(demo, connect):
    alice = await connect(demo["alice"])
    await alice.send({"type": "ping"})
    assert await alice.recv_type("pong") == {"type": "pong"}
    await alice.close()


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{not json", "invalid"),
        ("[1, 2]", "invalid"),
        ('{"no": "type"}', "invalid"),
        ('{"type": "teleport"}', "invalid"),
        ('{"type": "sync", "after": "yesterday"}', "invalid"),
        ('{"type": "send", "client_id": "x", "to": 1, "body": "text"}', "invalid"),
        ('{"type": "send", "client_id": "", "to": 1, "body": {}}', "invalid"),
        ('{"type": "presence", "status": "busy"}', "invalid"),
    ],
)
async def test_malformed_frames_get_invalid_and_the_connection_stays(demo, connect, raw, code):
    alice = await connect(demo["alice"])
    await alice.send(raw)
    error = await alice.recv_type("error")
    assert error["code"] == code and error["detail"]
    await alice.send({"type": "ping"})
    assert (await alice.recv_type("pong"))["type"] == "pong"
    assert await count_messages() == 0
    await alice.close()


async def test_refused_sends_store_nothing(demo, connect):
    alice = await connect(demo["alice"])
    cases = [
        (send_frame(to=demo["carol"].id), "not_permitted"),
        (send_frame(conversation=123456), "not_found"),
        (send_frame(to=demo["bob"].id, app="teleport"), "unknown_app"),
        (send_frame(to=demo["bob"].id, text="x" * (70 * 1024)), "too_large"),
        ({"type": "send", "client_id": cid(), "to": demo["bob"].id, "body": {"text": "   "}}, "invalid"),
    ]
    for frame, code in cases:
        await alice.send(frame)
        error = await alice.recv_type("error")
        assert (error["code"], error["client_id"]) == (code, frame["client_id"])
    assert await count_messages() == 0
    await alice.close()


async def test_rate_limit_refuses_and_stores_nothing_beyond_the_burst(demo, connect, settings):
    settings.MESSAGE_RATE_BURST = 5
    settings.MESSAGE_RATE_PER_SECOND = 0.01
    alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
    frames = [send_frame(to=demo["bob"].id, text=f"m{i}") for i in range(8)]
    for frame in frames:
        await alice.send(frame)
    answers = await alice.answers(len(frames))
    assert [a["type"] for a in answers] == ["ack"] * 5 + ["error"] * 3
    assert {a["code"] for a in answers[5:]} == {"rate_limited"}
    assert await count_messages() == 5
    delivered = [f for f in await bob.drain() if f["type"] == "message"]
    assert len(delivered) == 5
    # Another client is unaffected.
    await bob.send(send_frame(to=demo["alice"].id))
    assert (await bob.recv_type("ack"))["seq"] == 6
    await alice.close()
    await bob.close()


async def test_an_expired_token_ends_the_connection(demo, connect):
    import asyncio
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from accounts.services import token_issue_for_user

    # Long enough to outlast the connect (a worker on Redis joins its group first).
    expires = timezone.now() + timedelta(seconds=4)

    def short_lived_token():
        token = token_issue_for_user(user=demo["alice"])["access_token"]
        AccessToken.objects.filter(user=demo["alice"]).update(expires=expires)
        return token

    token = await database_sync_to_async(short_lived_token)()
    alice = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    await alice.send({"type": "ping"})
    assert (await alice.recv_type("pong"))["type"] == "pong"
    await asyncio.sleep((expires - timezone.now()).total_seconds() + 0.1)
    await alice.send({"type": "ping"})
    assert (await alice.recv_type("error"))["code"] == "unauthenticated"
    assert (await alice.ws.receive_output(timeout=2))["type"] == "websocket.close"


async def browser_session(user) -> tuple[HttpClient, list[tuple[bytes, bytes]]]:
    """A signed-in browser: its HTTP client and a socket's headers (cookie, site, Origin)."""
    http = HttpClient()
    await database_sync_to_async(http.force_login)(user)
    cookie = f"sessionid={http.cookies['sessionid'].value}".encode()
    return http, [(b"cookie", cookie), (b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]


async def ended_now(client) -> bool:
    """The server says the session ended and closes with 4401, unasked and at once."""
    assert (await client.recv_type("error", timeout=1))["code"] == "unauthenticated"
    return (await client.ws.receive_output(timeout=1)) == {"type": "websocket.close", "code": 4401}


async def test_signing_out_ends_that_session_s_connections_at_once(demo, connect):
    """No frame and no periodic check needed; another session of the same person stays."""
    http, headers = await browser_session(demo["alice"])
    _other, other_headers = await browser_session(demo["alice"])
    alice, alice_too, elsewhere = await connect(headers=headers), await connect(headers=headers), await connect(headers=other_headers)
    await database_sync_to_async(http.post)("/accounts/logout/")
    assert await ended_now(alice) and await ended_now(alice_too)
    await elsewhere.send({"type": "ping"})
    assert (await elsewhere.recv_type("pong")) == {"type": "pong"}
    await elsewhere.close()


async def test_a_password_change_ends_every_connection_of_the_user_at_once(demo, connect):
    """Every socket goes, on every session and token: the other sessions were made under
    the old password and the tokens are revoked with it. The session that made the change
    lives on under a new key (Django's update_session_auth_hash), so its page connects
    again; the old sessions and the token cannot."""
    changing, headers = await browser_session(demo["alice"])
    _old, old_headers = await browser_session(demo["alice"])
    token = await token_with_scope(demo["alice"], "read write")
    here, there = await connect(headers=headers), await connect(headers=old_headers)
    bearer = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    response = await database_sync_to_async(changing.post)(
        "/accounts/password_change/",
        {"old_password": "switchboard-demo", "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    for client in (here, there, bearer):
        assert await ended_now(client)
    cookie = f"sessionid={changing.cookies['sessionid'].value}".encode()
    again = await connect(headers=[(b"cookie", cookie), *headers[1:]])
    assert again.hello["user"]["username"] == "alice"
    await again.close()
    assert await connect(headers=old_headers) is None
    assert await connect(headers=[(b"authorization", f"Bearer {token}".encode())]) is None


async def test_unticking_active_in_the_admin_closes_the_sockets_at_once(demo, connect):
    alice = await connect(demo["alice"])

    def switch_off():
        user = type(demo["alice"]).objects.get(pk=demo["alice"].pk)
        user.is_active = False
        user.save()  # as the admin's change form does

    await database_sync_to_async(switch_off)()
    assert await ended_now(alice)


async def test_a_deactivated_user_is_cut_off(demo, connect, monkeypatch):
    from messaging.socket import consumer as consumers

    monkeypatch.setattr(consumers, "AUTH_RECHECK_SECONDS", 0)
    alice = await connect(demo["alice"])
    await database_sync_to_async(lambda: type(demo["alice"]).objects.filter(pk=demo["alice"].pk).update(is_active=False))()
    await alice.send(send_frame(to=demo["bob"].id))
    assert (await alice.recv_type("error"))["code"] == "unauthenticated"
    assert await count_messages() == 0


async def test_a_revoked_token_ends_its_socket_at_the_next_check(demo, connect, monkeypatch):
    """A token revoked at /o/revoke_token/ (the HR portal signing out, say) stops opening the
    API at once, and its socket at the periodic check; the person's other sockets stay."""
    import hashlib

    from oauth2_provider.models import AccessToken

    from messaging.socket import consumer as consumers

    monkeypatch.setattr(consumers, "AUTH_RECHECK_SECONDS", 0)
    token = await token_with_scope(demo["alice"], "read write")
    revoked = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    other = await connect(demo["alice"])
    await database_sync_to_async(lambda: AccessToken.objects.get(token_checksum=hashlib.sha256(token.encode()).hexdigest()).revoke())()
    await revoked.send({"type": "ping"})
    assert (await revoked.recv_type("error"))["code"] == "unauthenticated"
    await other.send({"type": "ping"})
    assert (await other.recv_type("pong")) == {"type": "pong"}
    await other.close()


async def test_deactivating_an_account_closes_its_sockets_and_tokens_at_once(demo, connect):
    from django.test import TestCase
    from oauth2_provider.models import AccessToken

    from accounts.selectors import access_token_get_valid
    from accounts.services import token_issue_for_user, user_deactivate

    token = await database_sync_to_async(lambda: token_issue_for_user(user=demo["alice"])["access_token"])()
    alice = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    bob = await connect(demo["bob"])

    def deactivate():
        with TestCase.captureOnCommitCallbacks(execute=True):
            user_deactivate(user=demo["alice"])

    await database_sync_to_async(deactivate)()
    # No frame from alice is needed: the server closes her socket by itself.
    assert (await alice.recv_type("error"))["code"] == "unauthenticated"
    assert (await alice.ws.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4401}
    assert await database_sync_to_async(lambda: access_token_get_valid(token))() is None
    assert not await database_sync_to_async(lambda: AccessToken.objects.filter(user=demo["alice"]).exists())()
    await bob.send({"type": "ping"})
    assert (await bob.recv_type("pong"))["type"] == "pong"


async def test_a_read_only_token_may_not_write(demo, connect):
    from oauth2_provider.models import AccessToken

    from accounts.services import token_issue_for_user

    def read_only_token():
        token = token_issue_for_user(user=demo["alice"])["access_token"]
        AccessToken.objects.filter(user=demo["alice"]).update(scope="read")
        return token

    token = await database_sync_to_async(read_only_token)()
    alice = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    await alice.send(send_frame(to=demo["bob"].id))
    assert (await alice.recv_type("error"))["code"] == "not_permitted"
    await alice.send({"type": "sync", "after": 0})
    await alice.send({"type": "ping"})
    assert (await alice.recv_type("pong"))["type"] == "pong"
    assert await count_messages() == 0


async def token_with_scope(user, scope: str) -> str:
    """A live token of ``user`` carrying only ``scope`` (a sign-in token, say)."""
    from oauth2_provider.models import AccessToken

    from accounts.services import token_issue_for_user

    def make():
        token = token_issue_for_user(user=user)["access_token"]
        AccessToken.objects.filter(user=user).update(scope=scope)
        return token

    return await database_sync_to_async(make)()


async def closed_with(client) -> tuple[dict, dict]:
    """The error frame and the close that answered a socket refused after its handshake."""
    error = await client.recv_type("error")
    return error, await client.ws.receive_output(timeout=2)


@pytest.mark.parametrize("scope", ["openid profile", "openid", "write", "hr:notify"])
async def test_a_token_without_read_cannot_open_a_socket(demo, connect, api_for, scope):
    """An OpenID Connect sign-in token (openid profile) is no key to the person's history
    or live messages: the socket is closed at once with 4403, before any hello."""
    from rest_framework.test import APIClient

    token = await token_with_scope(demo["alice"], scope)
    bob = await connect(demo["bob"])
    await bob.send(send_frame(to=demo["alice"].id, text="for alice only"))
    await bob.recv_type("ack")
    client = await connect(headers=[(b"authorization", f"Bearer {token}".encode())], expect_hello=False)
    error, close = await closed_with(client)
    assert error["code"] == "not_permitted" and close == {"type": "websocket.close", "code": 4403}
    # History over REST answers the same way.
    http = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = await database_sync_to_async(http.get)("/api/v1/conversations/")
    assert response.status_code == 403 and response.json()["code"] == "not_permitted"
    await bob.close()


async def test_typing_needs_what_a_chat_message_needs(demo, connect):
    """An app's permit to bring its own messages to someone (an approval card, say) lets
    neither side chat there, nor tell the other it is typing."""
    from messaging.registry import conversation_permits, register_conversation_permit

    register_app_handler(PollHandler())
    register_conversation_permit("poll", lambda a, b: True)
    try:
        alice, carol = await connect(demo["alice"]), await connect(demo["carol"])  # no rule lets them talk
        await alice.send({"type": "send", "client_id": cid(), "to": demo["carol"].id, "app": "poll",
                          "body": {"question": "Lunch?", "options": ["noodles", "rice"]}})  # fmt: skip
        conversation = (await alice.recv_type("ack"))["conversation"]
        await carol.recv_type("message")
        for client in (alice, carol):
            await client.send({"type": "typing", "conversation": conversation})
            assert (await client.recv_type("error"))["code"] == "not_permitted"
            await client.send(send_frame(conversation=conversation))
            assert (await client.recv_type("error"))["code"] == "not_permitted"
        assert await carol.no("typing") and await alice.no("typing")
        for client in (alice, carol):
            await client.close()
    finally:
        app_handlers.unregister("poll")
        conversation_permits.unregister("poll")


# --- limits ---------------------------------------------------------------------------------


async def test_one_user_holds_at_most_so_many_sockets_on_a_worker(demo, connect, settings):
    settings.SOCKET_LIMIT_PER_USER = 3
    alices = [await connect(demo["alice"]) for _ in range(3)]
    refused = await connect(demo["alice"], expect_hello=False)
    error, close = await closed_with(refused)
    assert error["code"] == "rate_limited" and close == {"type": "websocket.close", "code": 4429}
    bob = await connect(demo["bob"])  # others are not held up
    assert bob.hello["user"]["username"] == "bob"
    await alices.pop().close()
    again = await connect(demo["alice"])  # a closed one makes room
    assert again.hello["user"]["username"] == "alice"
    for client in [*alices, again, bob]:
        await client.close()


async def test_one_address_holds_at_most_so_many_sockets_on_a_worker(demo, connect, settings):
    settings.SOCKET_LIMIT_PER_ADDRESS = 2
    first, second = await connect(demo["alice"]), await connect(demo["bob"])
    refused = await connect(demo["carol"], expect_hello=False)  # the fixture's clients share 127.0.0.1
    error, close = await closed_with(refused)
    assert error["code"] == "rate_limited" and close == {"type": "websocket.close", "code": 4429}
    await first.close()
    third = await connect(demo["carol"])
    assert third.hello["user"]["username"] == "carol"
    for client in (second, third):
        await client.close()


# --- presence -------------------------------------------------------------------------------


async def test_presence_goes_only_to_those_who_see(demo, connect):
    alice = await connect(demo["alice"])
    carol = await connect(demo["carol"])
    bob = await connect(demo["bob"])
    assert await alice.recv_type("presence") == {"type": "presence", "user": demo["bob"].id, "status": "online"}
    assert await carol.nothing()
    # A second device changes nothing; away needs every device away.
    bob_phone = await connect(demo["bob"])
    await bob.send({"type": "presence", "status": "away"})
    assert await alice.nothing()
    await bob_phone.send({"type": "presence", "status": "away"})
    assert (await alice.recv_type("presence"))["status"] == "away"
    await bob.close()
    assert await alice.nothing()  # bob_phone is still connected
    await bob_phone.close()
    assert (await alice.recv_type("presence"))["status"] == "offline"
    await alice.close()
    await carol.close()


async def test_contacts_presence_arrives_after_hello(demo, connect):
    bob = await connect(demo["bob"])
    alice = await connect(demo["alice"])
    frames = await alice.drain()
    assert {"type": "presence", "user": demo["bob"].id, "status": "online"} in frames
    await alice.close()
    await bob.close()


SUBSCRIBE = "/ws/?presence=subscribe"


async def test_a_subscribing_connection_hears_only_whom_it_names(demo, connect):
    bob = await connect(demo["bob"])
    alice = await connect(demo["alice"], path=SUBSCRIBE)
    assert await alice.no("presence")  # no snapshot of everyone
    # carol is not alice's contact and 999999 is no one: both left out, without a word why.
    await alice.send({"type": "presence_subscribe", "users": [demo["bob"].id, demo["dev_lead"].id, demo["carol"].id, 999999]})
    assert await alice.recv() == {"type": "presence_subscribed", "users": sorted([demo["bob"].id, demo["dev_lead"].id])}
    snapshot = [await alice.recv(), await alice.recv()]
    assert {"type": "presence", "user": demo["bob"].id, "status": "online"} in snapshot
    assert {"type": "presence", "user": demo["dev_lead"].id, "status": "offline"} in snapshot
    await bob.send({"type": "presence", "status": "away"})
    assert await alice.recv_type("presence") == {"type": "presence", "user": demo["bob"].id, "status": "away"}
    # A v1 connection of a contact hears everyone's presence, alice's included.
    lead = await connect(demo["dev_lead"])
    assert (await alice.recv_type("presence"))["user"] == demo["dev_lead"].id
    assert await lead.drain()
    # A new list replaces the old: bob's changes no longer come.
    await alice.send({"type": "presence_subscribe", "users": [demo["dev_lead"].id]})
    assert (await alice.recv_type("presence_subscribed"))["users"] == [demo["dev_lead"].id]
    await bob.close()
    assert await alice.no("presence")
    await lead.close()
    assert await alice.recv_type("presence") == {"type": "presence", "user": demo["dev_lead"].id, "status": "offline"}
    await alice.close()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "presence_subscribe"},
        {"type": "presence_subscribe", "users": "bob"},
        {"type": "presence_subscribe", "users": ["bob"]},
        {"type": "presence_subscribe", "users": list(range(1, 502))},
    ],
)
async def test_bad_presence_subscriptions_are_refused(demo, connect, frame):
    alice = await connect(demo["alice"], path=SUBSCRIBE)
    await alice.send(frame)
    assert (await alice.recv_type("error"))["code"] == "invalid"
    await alice.close()


async def test_a_v1_connection_cannot_narrow_its_presence(demo, connect):
    alice = await connect(demo["alice"])
    await alice.send({"type": "presence_subscribe", "users": [demo["bob"].id]})
    assert (await alice.recv_type("error"))["code"] == "invalid"
    await alice.close()


async def test_presence_goes_to_watchers_only_while_a_v1_connection_is_open(demo, connect):
    from messaging.realtime.presence import get_presence

    alice = await connect(demo["alice"], path=SUBSCRIBE)
    assert not await get_presence().v1_anywhere()
    bob = await connect(demo["bob"])
    assert await get_presence().v1_anywhere()
    await bob.close()
    await alice.drain()
    assert not await get_presence().v1_anywhere()
    await alice.close()


# --- the app registry -----------------------------------------------------------------------


class PollHandler(AppHandler):
    app = "poll"

    def clean(self, body, *, sender, conversation):
        if not isinstance(body.get("question"), str):
            from core.errors import ApplicationError

            raise ApplicationError("A poll needs a question.", code="invalid")
        return {"question": body["question"], "options": list(body.get("options", []))}


async def test_a_new_app_needs_no_change_to_messaging(demo, connect):
    register_app_handler(PollHandler())
    try:
        alice, bob = await connect(demo["alice"]), await connect(demo["bob"])
        frame = {"type": "send", "client_id": cid(), "to": demo["bob"].id, "app": "poll",
                 "body": {"question": "Lunch?", "options": ["noodles", "rice"], "extra": 1}}
        await alice.send(frame)
        await alice.recv_type("ack")
        message = await bob.recv_type("message")
        assert message["app"] == "poll" and message["body"] == {"question": "Lunch?", "options": ["noodles", "rice"]}
        await alice.send({**frame, "client_id": cid(), "body": {"nope": 1}})
        assert (await alice.recv_type("error"))["code"] == "invalid"
        await alice.close()
        await bob.close()
    finally:
        app_handlers.unregister("poll")
    assert "poll" not in app_handlers


@pytest.mark.asyncio
async def test_a_connection_speaks_the_browsers_language(demo, connect):
    from accounts.services import token_issue_for_user

    token = await database_sync_to_async(token_issue_for_user)(user=demo["bob"])
    headers = [(b"authorization", f"Bearer {token['access_token']}".encode()), (b"accept-language", b"zh-CN,zh;q=0.9,en;q=0.5")]
    chinese = await connect(headers=headers)
    await chinese.send({"type": "nonsense"})
    assert (await chinese.recv_type("error"))["detail"] == "未知的帧类型 'nonsense'。"
    english = await connect(demo["alice"])
    await english.send({"type": "nonsense"})
    assert (await english.recv_type("error"))["detail"] == "Unknown frame type 'nonsense'."
    await chinese.close()
    await english.close()
