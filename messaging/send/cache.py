"""What a worker's send checks read, kept while the policy version stays.

A batch of sends (``service.message_send_many``) must know who the people written to
are and whether they are active, which conversation two people share, and who is in
each conversation written to. These change seldom, so each worker keeps what it has
read, and the policy version (contacts migration 0002) tells it when to forget: triggers
change the version on every write that could change an answer here (messaging migration
0003). A batch whose people and conversations are known so reads one row, the version,
before its write; the rest is read for what is missing, in one query per kind.

Only what is read after the version is kept under it, so nothing kept is older than the
version it is kept under. On a database without the version nothing is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import User
from contacts.policy import policy_version
from core.cache import KeptUnderVersion

from ..models import Conversation, ConversationMember

# Past this many people and conversations a worker's cache starts again.
MAX_KNOWN = 50_000


class _Known:
    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.conversations: dict[int, tuple[Conversation, list[int]]] = {}
        self.direct: dict[str, Conversation] = {}

    def __len__(self) -> int:
        return len(self.users) + len(self.conversations) + len(self.direct)


class SendCache:
    def __init__(self) -> None:
        self._known = KeptUnderVersion(_Known, MAX_KNOWN, version=policy_version)

    def users(self, ids: Iterable[int]) -> dict[int, User]:
        """The users of these ids that exist, active or not."""
        ids = set(ids)
        known = self._known.current().users
        missing = ids - known.keys()
        if missing:
            known.update(User.objects.in_bulk(missing))
        return {pk: known[pk] for pk in ids if pk in known}

    def conversations(self, ids: Iterable[int]) -> dict[int, tuple[Conversation, list[int]]]:
        """The conversations of these ids that exist, each with its members' ids."""
        ids = set(ids)
        known = self._known.current().conversations
        missing = ids - known.keys()
        if missing:
            found = Conversation.objects.in_bulk(missing)
            members: dict[int, list[int]] = {pk: [] for pk in found}
            for conversation_id, user_id in ConversationMember.objects.filter(conversation_id__in=found).values_list(
                "conversation_id", "user_id"
            ):
                members[conversation_id].append(user_id)
            known.update({pk: (conversation, members[pk]) for pk, conversation in found.items()})
        return {pk: known[pk] for pk in ids if pk in known}

    def direct(self, keys: Iterable[str]) -> dict[str, Conversation]:
        """The direct conversations of these keys that exist."""
        keys = set(keys)
        known = self._known.current().direct
        missing = keys - known.keys()
        if missing:
            known.update(Conversation.objects.filter(direct_key__in=missing).in_bulk(field_name="direct_key"))
        return {key: known[key] for key in keys if key in known}


send_cache = SendCache()
