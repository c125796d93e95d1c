"""What a precedent question asks was *done*, and which sentence of an item shows it.

"哪些市州印发了品读季实施方案" counts an item only when one of its sentences (answer units,
ingest/sentences.py) carries the asked action for that item's place: a verb of the asked kind
(印发, 下发, 出台…), not under a word that makes it a plan or a demand (要…, 将…, 研究制定…),
with the question's specific words (品读季, 方案: the terms rarer than a threshold) in the
same sentence. That sentence is the quote. Items that only mention the topic are "related",
listed apart and never counted: the count line is what staff paste into a draft.

When a question asks about 部署 or 要求 itself ("哪些市州在会议上部署了扶贫志编纂"), a meeting's
demand is the action, so 要… counts there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ingest.sentences import answer_units


@dataclass(frozen=True)
class ActionKind:
    name: str
    asked: re.Pattern  # how a question names it
    done: re.Pattern  # how an item's sentence says it was done
    planned_counts: bool = False  # a demand or plan ("要…") is itself the action


def _words(*words: str) -> re.Pattern:
    return re.compile("|".join(words), re.IGNORECASE)


# The kind a question asks is the one its words name first ("会议要求年鉴…公开出版" asks
# for a demand, not a publication); kinds joined by 或/or are alternatives.
KINDS = (
    ActionKind(
        "instruct", _words("批示", r"\binstructions?\b", r"\bcomment(?:ed|s)?\b"), _words("批示")
    ),
    ActionKind(
        "select",
        _words(
            "入选", "获评", "评为", "荣获", "获得", "获奖", "评上", r"\bselected\b", r"\bawarded\b"
        ),
        _words("入选", "获评", "评为", "荣获", "获", "评选为"),
    ),
    ActionKind(
        "commend",
        _words("表彰", "表扬", "授牌", r"\bcommend", r"\bhonou?r"),
        _words("表彰", "表扬", "授牌"),
    ),
    ActionKind(
        "issue",
        _words("印发", "下发", "出台", "发文", "发布", r"\bissued?\b", r"\bpublished? (?:a|the)"),
        _words("印发", "下发", "出台", "发布"),
    ),
    ActionKind(
        "speak",
        _words("交流发言", "发言", "讲话", r"\bsp(?:oke|eak)\b"),
        _words("发言", "讲话"),
    ),
    ActionKind("hear", _words("听取", r"\bheard\b", r"\blistened\b"), _words("听取", "汇报")),
    ActionKind("complete", _words("完成", r"\bcomplet(?:ed|e)\b"), _words("完成")),
    ActionKind("publish", _words("出版", "印刷", r"\bprinted\b"), _words("出版", "印刷")),
    ActionKind(
        "meet",
        _words("召开", "举行", "举办", "开会", "开了", r"\bheld\b", r"\bhold\b"),
        _words("召开", "举行", "举办"),
    ),
    ActionKind(
        "survey", _words("调研", "考察", r"\bstudy tour", r"\bvisit"), _words("调研", "考察")
    ),
    ActionKind(
        "deploy",
        _words("部署", "安排", "要求", r"\bdeploy", r"\barrang", r"\brequir"),
        _words("部署", "安排", "要求", "强调", "(?<![主重需])要(?!求)"),
        planned_counts=True,
    ),
    ActionKind(
        "conduct", _words("开展", "组织", r"\bcarried out\b"), _words("开展", "组织", "举办")
    ),
)
# Words that make the verb after them (in the same clause) a plan or a demand, not a deed.
_PLANNED = re.compile(r"(?<![主重需])要|将|拟|计划|研究制定|争取|力争|努力|及时|准备|着手|启动")
# Words of a question that name no part of the action's topic: who did it (领导), grammar, the
# form of a document (方案, 通知: "印发了品读季实施方案" is about 品读季; another topic's 实施方案
# is not a precedent). "志书" is what English "chronicle(s)" expands to (index/expand.py); the
# bulletins write 志.
_NOT_SPECIFIC = frozenset(
    "领导 市级 县级 作出 做出 进行 或 和 与 及 到 后 做到 专门 各 所 有 了 上 中 汇报 志书 "
    "方案 实施方案 实施 通知 意见 办法 文件".split()
)
_ALTERNATIVES = re.compile(r"或|或者|\bor\b", re.IGNORECASE)
_AT_MEETING = re.compile(r"会议上|会上|在.{0,8}会议|\bat (?:the|their|its) .{0,30}meeting", re.I)
_ISSUES_A_PLAN = re.compile(r"(?:印发|制定|出台|下发)[^。；]*《[^》]*(?:方案|规划|计划|意见)》")
# Words staff use for the same thing (GLOSSARY.md): 史志 is 党史 and 地方志 together.
# 先进单位 are also 先进集体, and praise may be for 成绩突出 or 优秀 work.
_SAME = {
    "史志": ("地方志", "方志", "党史"),
    "方志": ("地方志", "史志"),
    "单位": ("集体",),
    "先进": ("突出", "优秀"),
    "参加": ("出席",),
    "出席": ("参加",),
}
SPECIFIC_IDF = 1.0  # question words at least this rare must be in the sentence or its item's
SPECIFIC_SHARE = 0.5  # lead and title, this share of their weight at least


@dataclass(frozen=True)
class Action:
    # the asked kinds (alternatives); () when the question names no known action or asks for
    # a demand or plan: then its words alone decide
    kinds: tuple[ActionKind, ...]
    terms: dict[str, float]  # the question's specific words and their weights
    # "在…会议上部署": the item must be a meeting's (会议 is too common to be a specific word)
    at_meeting: bool = False

    @classmethod
    def of(cls, question: str, terms: dict[str, float]) -> "Action":
        """The asked action of a (possibly expanded) question; `terms`: its content words with
        their IDF (answer/terms.py)."""
        named = sorted(
            ((m.start(), k) for k in KINDS for m in [k.asked.search(question)] if m),
            key=lambda pair: pair[0],
        )
        kinds = [k for _, k in named[:1]]
        if len(named) > 1 and _ALTERNATIVES.search(question):
            kinds = [k for _, k in named]
        specific = {
            t: w
            for t, w in terms.items()
            if w >= SPECIFIC_IDF
            and t not in _NOT_SPECIFIC
            and not any(k.asked.search(t) or k.done.search(t) for k in kinds)
        }
        # a demand or plan is whatever the item asks for: the topic words decide
        done = tuple(k for k in kinds if not k.planned_counts)
        at_meeting = bool(_AT_MEETING.search(question))
        return cls(done if len(done) == len(kinds) else (), specific, at_meeting)

    def mentioned_in(self, text: str) -> bool:
        """The text is about the asked topic (its specific words), whether or not it says the
        action was done: what a related entry must be."""
        total = sum(self.terms.values())
        words = re.sub(r"\s+", "", text)
        return not total or self._carried(words) >= SPECIFIC_SHARE * total

    def _carried(self, words: str) -> float:
        return sum(
            w for t, w in self.terms.items() if any(x in words for x in (t, *_SAME.get(t, ())))
        )

    def carried_by(self, sentence: str, context: str = "") -> bool:
        """The sentence says the action was done; its words may be shared with `context` (the
        item's title and lead: "南部县…扶贫志" there, "联合印发《…方案》" here)."""
        squeezed = re.sub(r"\s+", "", sentence)
        words = squeezed + re.sub(r"\s+", "", context)
        if self.at_meeting and "会" not in words:
            return False
        total = sum(self.terms.values())
        if total and self._carried(words) < SPECIFIC_SHARE * total:
            return False
        if not self.kinds:
            return bool(total)
        return any(
            not _PLANNED.search(squeezed, 0, m.start())  # not a plan or a demand (要…, 将…)
            for kind in self.kinds
            for m in kind.done.finditer(squeezed)
        )


def carrying_unit(action: Action) -> Callable[[str, str], tuple[int, int] | None]:
    """(text, title) -> (start, end) of the text's first answer unit that carries the action,
    or None."""

    def find(text: str, title: str = "") -> tuple[int, int] | None:
        spans = answer_units(text)
        lead = text[spans[0][0] : spans[0][1]] if spans else ""
        if _ISSUES_A_PLAN.search(lead) and action.kinds:
            # the item is a plan being issued: what follows its lead is the plan's content,
            # to be done, not done ("德阳…印发《…方案》… 召开年鉴质量提升专题会议…")
            spans = spans[:1]
        context = f"{title}{lead}"
        return next((s for s in spans if action.carried_by(text[s[0] : s[1]], context)), None)

    return find
