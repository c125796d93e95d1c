"""Follow-up questions: "那巴中呢?" after "达州在年鉴质量方面做了什么决定" asks the same about 巴中.

A follow-up is a short question that names a place (or a year) and nothing else: once
the place, the year and the filler words (那, 呢, 怎么样, what about …) are taken out, no
topic is left. It then inherits the previous question with its places (or year) swapped.
Anything with a topic of its own is a new question and stands alone.
"""

from __future__ import annotations

import re

from ingest.places import Gazetteer

_YEAR = re.compile(r"(?:19|20)\d{2}\s*年?")
# a year with its month and day: a follow-up naming another year ("2023年的呢") replaces all
# of it, since the month asked before belonged to the other year's event
_DATE = re.compile(r"(?:19|20)\d{2}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|(?:19|20)\d{2}")
_FILLER = re.compile(
    r"(那么|那|还有|再看看|再看|看看|换成|改成|的情况|情况|怎么样|如何|怎样|又|呢|吗|的|和|以及|、|，|,|？|\?|。|！|!|\s"
    r"|\bwhat\b|\babout\b|\band\b|\bhow\b|\bthen\b|\bin\b|\bfor\b|\bcounty\b|\bcity\b|\bprefecture\b|'s)",
    re.IGNORECASE,
)
MAX_FOLLOW_UP_CHARS = 24


def follow_up_query(question: str, previous: str | None, gazetteer: Gazetteer) -> str | None:
    """The full question a follow-up stands for, or None when `question` stands alone."""
    question = question.strip()
    if not previous or not question or len(question) > MAX_FOLLOW_UP_CHARS:
        return None
    mentions = gazetteer.find_in_query(question)
    years = _YEAR.findall(question)
    rest = question
    for mention in sorted(mentions, key=lambda m: m.start, reverse=True):
        rest = rest[: mention.start] + rest[mention.end :]
    rest = _YEAR.sub("", rest)
    if (not mentions and not years) or _FILLER.sub("", rest):
        return None
    topic = previous
    if mentions:
        # always the Chinese name: it is what the bulletins say, and a pinyin name glued to
        # a previous question that had no place ("Luzhou<…>") searched for nothing
        topic = _swap_places(topic, [m.place.name for m in mentions], gazetteer)
    if years:
        new_year = years[0].strip().rstrip("年") + "年"
        topic = _DATE.sub(new_year, topic, count=1) if _DATE.search(topic) else f"{new_year}{topic}"
    return topic


def _swap_places(previous: str, new_places: list[str], gazetteer: Gazetteer) -> str:
    """Replace the previous question's place mentions with the new places (or prefix them)."""
    old = sorted(gazetteer.find_in_query(previous), key=lambda m: m.start)
    joined = "、".join(new_places)
    if not old:
        return f"{joined}{previous}"
    text = previous[: old[0].start] + joined + previous[old[0].end :]
    shift = len(joined) - (old[0].end - old[0].start)
    for mention in old[1:]:  # further old places go; the new ones were said once
        start, end = mention.start + shift, mention.end + shift
        text = text[:start] + text[end:]
        shift -= end - start
    return text
