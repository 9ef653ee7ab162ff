"""Mentions: who a message names with ``@username`` or ``@all``, read by the server from
the text its app says mentions can be in (``AppHandler.mention_text``: a chat message's
text), never taken from a client.

- ``@username`` mentions that member of the conversation (usernames as Django allows
  them: letters, digits and ``_ . @ + -``; punctuation that ends a sentence after a name,
  ``@alice.``, is not part of it). Someone who is not a member is not mentioned, and
  the sender never mentions themselves.
- ``@all`` mentions every other member, and only from a group's owner (who made it) or
  the manager of a department's conversation. From anyone else, and in a direct
  conversation, it is just text: the message is sent, mentioning no one by it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from accounts.models import User
from contacts.models import Department

from ..models import Conversation
from .checks import Send

ALL = "all"
# A mention starts a word: at the start or after anything that cannot be in a username.
MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]+)")
_TRAILING = ".@+-"


def mention_names(text: str) -> set[str]:
    """Each name the text may mention: for ``@alice.`` both ``alice.`` and ``alice``."""
    names: set[str] = set()
    for match in MENTION.finditer(text):
        name = match.group(1)
        while name:
            names.add(name)
            if name[-1] not in _TRAILING:
                break
            name = name[:-1]
    return names


def may_mention_all(sender_id: int, conversation: Conversation, managers: dict[int, int | None]) -> bool:
    if conversation.kind == Conversation.Kind.GROUP:
        return conversation.created_by_id == sender_id
    if conversation.kind == Conversation.Kind.DEPARTMENT:
        return managers.get(conversation.department_id) == sender_id
    return False


def mentions_resolve(sends: Iterable[Send]) -> None:
    """Set each send's ``mentions``: the ids of the members it mentions, sorted. One
    query for the usernames of the whole batch, one more for the managers of the
    departments written to with ``@all``; none where no text has an ``@``."""
    wanted: list[tuple[Send, set[str]]] = []
    for send in sends:
        send.mentions = []
        if send.forwarded:
            continue  # a copy mentions no one where it lands
        text = send.handler.mention_text(send.body)
        if "@" in text and (names := mention_names(text)):
            wanted.append((send, names))
    if not wanted:
        return
    names = set().union(*(n for _send, n in wanted))
    ids = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    department_ids = {
        send.conversation.department_id
        for send, n in wanted
        if ALL in n and send.conversation.kind == Conversation.Kind.DEPARTMENT
    }
    managers = (
        dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "manager_id")) if department_ids else {}
    )
    for send, n in wanted:
        sender_id = send.request.sender.pk
        members = set(send.audience)
        if ALL in n and may_mention_all(sender_id, send.conversation, managers):
            mentioned = members
        else:
            mentioned = {ids[name] for name in n if name in ids} & members
        send.mentions = sorted(mentioned - {sender_id})
