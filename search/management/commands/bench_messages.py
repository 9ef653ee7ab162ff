"""A stored history for the search benchmark: groups and direct conversations among the
benchmark users, and many generated messages in Chinese, English and both, spread over
the past year.

    manage.py bench_users --count 1000 --team-size 20
    manage.py bench_messages --count 1000000 --users 1000 --out bench/results/corpus.json
    manage.py search_reindex

The words follow a long-tailed distribution: a few common ones are in a good share of the
messages, and each of the rare ones in about a hundred in a million. ``--out`` writes what
the search scenario asks for: each user's conversations and the common and rare words.

The messages are written with PostgreSQL's COPY (a million in a minute or two); on SQLite
(the tests) in batches. A run that finds the history it would make already there does
nothing, so the benchmark can be run again without paying for it twice.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from messaging.handlers import render_markdown
from messaging.models import Conversation, ConversationMember, Message
from search.models import MessageDocument

#: Every generated message's client_id starts so; it is what finds the history again.
CLIENT_PREFIX = "corpus-"
GROUP_TITLE = "Search corpus {n:04d}"
BATCH = 5000

# Office words, most common first (each language's list is drawn from by a Zipf law).
ZH_COMMON = (
    "会议 项目 预算 客户 报告 方案 进度 合同 审批 数据 系统 测试 上线 需求 产品 设计 文档 邮件 发票 报销 "
    "出差 培训 招聘 面试 市场 价格 订单 发货 库存 质量 服务器 版本 用户 反馈 优化 季度 目标 计划 总结 时间 "
    "地点 经理 部门 同事 领导 财务 销售 采购 供应商 会议室 周报 月报 指标 流程 权限 账号 网络 打印机"
).split()
ZH_GLUE = "我们 大家 请 一下 已经 需要 可以 还是 这个 关于 今天 明天 下午 上午 马上 尽快 确认 安排 讨论 处理 准备 提交 检查 更新 完成 通知".split()
EN_COMMON = (
    "meeting project budget customer report proposal schedule contract approval data system test release "
    "requirement product design document email invoice expense travel training hiring interview market price "
    "order shipment inventory quality server version user feedback performance quarter goal plan summary "
    "deadline office manager team review launch sprint ticket deploy"
).split()
EN_GLUE = "the we please need to for and is will can this on by at with today tomorrow next week".split()
MIXED = "Q1 Q2 Q3 Q4 KPI OKR PPT Excel API App 2026 v2".split()
# Rare words: real words a dictionary knows, each in about 1 message in 10,000.
ZH_RARE = (
    "鼓浪屿 张家界 九寨沟 乌镇 西双版纳 呼伦贝尔 敦煌 婺源 泸沽湖 香格里拉 景德镇 丽江 喀什 黄山 峨眉山 "
    "普陀山 武夷山 千岛湖 洱海 长白山 太湖 漓江 莫高窟 兵马俑 布达拉宫 故宫 颐和园 天坛 外滩 西湖 "
    "琵琶 二胡 古筝 笛子 唢呐 京剧 昆曲 越剧 相声 剪纸 刺绣 陶瓷 丝绸 茶叶 宣纸 毛笔 砚台 篆刻 书法 "
    "熊猫 孔雀 丹顶鹤 白鹭 海豚 骆驼 袋鼠 企鹅 梅花 兰花 菊花 荷花 牡丹 杜鹃 桂花 茉莉"
).split()
EN_RARE = (
    "aardvark bassoon calliope dirigible eucalyptus flamingo gondola harpsichord iguana jackal kaleidoscope "
    "lighthouse marzipan narwhal ocelot pelican quokka rhubarb saxophone tambourine ukulele vellum walrus "
    "xylophone yodel zeppelin albatross bagpipe cormorant dulcimer emerald falcon glacier hyacinth igloo "
    "jasmine kestrel lagoon meteorite nutmeg obsidian papyrus quartz raccoon sapphire tundra umbrella "
    "volcano wombat yarrow zucchini anemone bonsai cinnamon dolphin equinox fjord gazelle hedgehog"
).split()
#: The share of messages with a rare word, with a link, in Chinese, in English (the rest mix both).
RARE_SHARE, LINK_SHARE, ZH_SHARE, EN_SHARE = 0.015, 0.03, 0.55, 0.30


def _zipf_weights(n: int) -> list[float]:
    return [1 / (rank + 1) for rank in range(n)]


@dataclass
class Layout:
    """Who is in which generated conversation."""

    groups: list[list[int]] = field(default_factory=list)
    directs: list[tuple[int, int]] = field(default_factory=list)


class Words:
    """Messages from the word lists above, always the same for one seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.zh = ZH_COMMON + ZH_GLUE
        self.zh_weights = _zipf_weights(len(ZH_COMMON)) + [0.5] * len(ZH_GLUE)
        self.en = EN_COMMON + EN_GLUE
        self.en_weights = _zipf_weights(len(EN_COMMON)) + [0.5] * len(EN_GLUE)

    def _chinese(self, count: int) -> str:
        words = self.rng.choices(self.zh, self.zh_weights, k=count)
        parts, since = [], 0
        for word in words:
            parts.append(word)
            since += 1
            if since >= 3 and self.rng.random() < 0.3:
                parts.append("，")
                since = 0
        return "".join(parts).rstrip("，") + "。"

    def _english(self, count: int) -> str:
        words = self.rng.choices(self.en, self.en_weights, k=count)
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < ZH_SHARE:
            text = self._chinese(rng.randint(4, 16))
        elif roll < ZH_SHARE + EN_SHARE:
            text = self._english(rng.randint(5, 20))
        else:
            text = f"{rng.choice(MIXED)} {self._chinese(rng.randint(3, 8))} {self._english(rng.randint(3, 8))}"
        if rng.random() < RARE_SHARE:
            rare = rng.choice(ZH_RARE) if rng.random() < 0.5 else rng.choice(EN_RARE)
            text = f"{text} {rare}"
        if rng.random() < LINK_SHARE:
            text = f"{text} https://docs.example.com/{rng.choice(EN_COMMON)}/{rng.randint(1, 9999)}"
        return text


class Command(BaseCommand):
    help = (
        "Generate a stored history for the search benchmark among bench0001… (run bench_users first): "
        "groups and direct conversations, and --count messages over the past year. Does nothing if that "
        "history is already there; replaces a different one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, default=1_000_000, help="Messages (default 1,000,000).")
        parser.add_argument("--users", type=int, default=1000, help="Benchmark users taking part (default 1000).")
        parser.add_argument("--groups-per-user", type=int, default=8)
        parser.add_argument("--group-size", type=int, default=20)
        parser.add_argument("--directs-per-user", type=int, default=20)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--out", type=Path, help="Write each user's conversations and the words to this JSON file.")

    def handle(self, *args, count: int, users: int, groups_per_user: int, group_size: int,
               directs_per_user: int, seed: int, out: Path | None, **options) -> None:  # fmt: skip
        if count < 1 or users < 2 or group_size < 2 or groups_per_user < 0 or directs_per_user < 0:
            raise CommandError("--count must be positive, --users and --group-size at least 2.")
        people = self._people(users)
        shape = f"{count} messages, {users} users, {groups_per_user}x{group_size} groups, {directs_per_user} directs, seed {seed}"
        existing = Message.objects.filter(client_id__startswith=CLIENT_PREFIX)
        stored = existing.count()
        marker = Conversation.objects.filter(title=GROUP_TITLE.format(n=0)).first()
        if stored == count and marker is not None and marker.notice == shape:
            self.stdout.write(f"The search history is already there: {stored} messages.")
        else:
            if stored or marker is not None:
                self.stdout.write(f"Removing the earlier search history ({stored} messages).")
                self._remove()
            rng = random.Random(seed)
            layout = self._layout(rng, [p.pk for p in people], groups_per_user, group_size, directs_per_user)
            conversations = self._conversations(layout, shape)
            self._messages(rng, conversations, count)
            self.stdout.write(
                f"Generated {count} messages in {len(conversations)} conversations among {users} users. "
                "Index them with manage.py search_reindex."
            )
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(self._description(people)))
            self.stdout.write(f"Conversations and words written to {out}.")

    @staticmethod
    def _people(count: int) -> list[User]:
        names = [f"bench{i:04d}" for i in range(1, count + 1)]
        people = sorted(User.objects.filter(username__in=names), key=lambda u: u.username)
        if len(people) < count:
            raise CommandError(f"Only {len(people)} of bench0001…; run manage.py bench_users --count {count} first.")
        return people

    @staticmethod
    def _layout(rng: random.Random, ids: list[int], groups_per_user: int, group_size: int, directs_per_user: int) -> Layout:
        layout = Layout()
        # Each user in about groups_per_user groups: shuffled rounds of the users, cut in groups.
        for _ in range(groups_per_user):
            order = ids[:]
            rng.shuffle(order)
            for start in range(0, len(order) - 1, group_size):
                layout.groups.append(order[start : start + group_size])
        pairs: set[tuple[int, int]] = set()
        wanted = len(ids) * directs_per_user // 2
        while len(pairs) < min(wanted, len(ids) * (len(ids) - 1) // 2):
            a, b = rng.sample(ids, 2)
            pairs.add((min(a, b), max(a, b)))
        layout.directs = sorted(pairs)
        return layout

    @staticmethod
    def _conversations(layout: Layout, shape: str) -> list[tuple[Conversation, list[int]]]:
        """The groups (the first one records the history's shape) and direct conversations,
        each with its members."""
        made: list[tuple[Conversation, list[int]]] = []
        with transaction.atomic():
            groups = Conversation.objects.bulk_create(
                [
                    Conversation(kind=Conversation.Kind.GROUP, title=GROUP_TITLE.format(n=n), created_by_id=members[0],
                                 notice=shape if n == 0 else "")  # fmt: skip
                    for n, members in enumerate(layout.groups)
                ],
                batch_size=BATCH,
            )
            made += list(zip(groups, layout.groups))
            keys = {Conversation.direct_key_for(a, b): [a, b] for a, b in layout.directs}
            existing = {c.direct_key: c for c in Conversation.objects.filter(direct_key__in=list(keys))}
            Conversation.objects.bulk_create(
                [Conversation(kind=Conversation.Kind.DIRECT, direct_key=key) for key in keys if key not in existing],
                batch_size=BATCH,
            )
            directs = {c.direct_key: c for c in Conversation.objects.filter(direct_key__in=list(keys))}
            made += [(directs[key], members) for key, members in keys.items()]
            ConversationMember.objects.bulk_create(
                [ConversationMember(conversation=c, user_id=uid) for c, members in made for uid in members],
                batch_size=BATCH,
                ignore_conflicts=True,
            )
        return made

    def _messages(self, rng: random.Random, conversations: list[tuple[Conversation, list[int]]], count: int) -> None:
        # Some conversations are much busier than others (a Pareto law), groups more than directs.
        weights = [rng.paretovariate(1.2) * (4 if c.kind == Conversation.Kind.GROUP else 1) for c, _m in conversations]
        picks = rng.choices(range(len(conversations)), weights, k=count)
        per_conversation = [0] * len(conversations)
        for index in picks:
            per_conversation[index] += 1
        now = timezone.now()
        year = 365 * 24 * 3600
        words = Words(rng)
        last: dict[int, tuple[int, dt.datetime]] = {}

        def rows() -> Iterator[tuple]:
            number = 0
            for (conversation, members), n in zip(conversations, per_conversation):
                if not n:
                    continue
                times = sorted(now - dt.timedelta(seconds=rng.uniform(60, year)) for _ in range(n))
                seq = conversation.last_seq
                for created in times:
                    seq += 1
                    number += 1
                    text = words.text()
                    body = {"text": text, "html": render_markdown(text)}
                    yield (conversation.pk, seq, rng.choice(members), body, f"{CLIENT_PREFIX}{number}", created)
                last[conversation.pk] = (seq, times[-1])

        written = self._write(rows(), count)
        # The conversations' newest seq and time; their members have read them all.
        with transaction.atomic():
            for conversation, _members in conversations:
                if conversation.pk in last:
                    seq, when = last[conversation.pk]
                    Conversation.objects.filter(pk=conversation.pk).update(last_seq=seq, last_message_at=when)
                    ConversationMember.objects.filter(conversation=conversation).update(last_read_seq=seq)
        self.stderr.write("")
        assert written == count, (written, count)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Message._meta.db_table}, {ConversationMember._meta.db_table}")

    def _write(self, rows: Iterator[tuple], count: int) -> int:
        written = 0
        step = max(count // 100, 1)
        if connection.vendor == "postgresql":
            columns = "conversation_id, seq, sender_id, app, body, client_id, created_at, mentions, forwarded"
            with transaction.atomic(), connection.cursor() as cursor:
                with cursor.cursor.copy(f"COPY messaging_message ({columns}) FROM STDIN") as copy:
                    for conversation, seq, sender, body, client_id, created in rows:
                        copy.write_row(
                            (conversation, seq, sender, "chat", json.dumps(body, ensure_ascii=False), client_id,
                             created, "[]", False)
                        )  # fmt: skip
                        written += 1
                        if written % step == 0:
                            self._progress(written, count)
            return written
        batch: list[Message] = []
        for conversation, seq, sender, body, client_id, created in rows:
            batch.append(Message(conversation_id=conversation, seq=seq, sender_id=sender, body=body,
                                 client_id=client_id, created_at=created))  # fmt: skip
            if len(batch) == BATCH:
                Message.objects.bulk_create(batch)
                written += len(batch)
                batch = []
                self._progress(written, count)
        Message.objects.bulk_create(batch)
        return written + len(batch)

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(f"\rbench_messages: {done}/{total} messages ({100 * done // total}%)", ending="")
        self.stderr.flush()

    @staticmethod
    def _remove() -> None:
        """The generated messages (with their search documents) and conversations."""
        generated = Message.objects.filter(client_id__startswith=CLIENT_PREFIX)
        MessageDocument.objects.filter(message__in=generated).delete()
        # Nothing refers to generated messages but their documents: one statement, not
        # Django's collector over a million rows.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Message._meta.db_table} WHERE client_id LIKE %s", [CLIENT_PREFIX + "%"])
        groups = Conversation.objects.filter(kind=Conversation.Kind.GROUP, title__startswith="Search corpus ")
        ConversationMember.objects.filter(conversation__in=groups).delete()
        groups.delete()

    @staticmethod
    def _description(people: list[User]) -> dict:
        ids = {p.pk: p.username for p in people}
        conversations: dict[str, list[int]] = {p.username: [] for p in people}
        for user_id, conversation_id in ConversationMember.objects.filter(user_id__in=list(ids)).values_list(
            "user_id", "conversation_id"
        ):
            conversations[ids[user_id]].append(conversation_id)
        return {
            "conversations": conversations,
            "words": {
                "common": ZH_COMMON[:10] + EN_COMMON[:10],
                "rare": ZH_RARE + EN_RARE,
                "mixed": [f"{m} {w}" for m in MIXED[:4] for w in ZH_COMMON[:5]],
            },
        }

