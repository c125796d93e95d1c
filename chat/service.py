"""The web chat's one call: a question in, a cited answer and its passages out.

`Assistant.ask` returns plain data (the search JSON contract's result keys plus the
answer), so the Gradio page, the API endpoint and the tests all see the same thing.
The assistant follows the index on disk: when an ingest swaps in a new index, the
next question is answered from it, without a restart (`IndexWatcher`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from answer.ask import UnderstoodSearch, ask, asks_city_own
from answer.citation import house_citation
from answer.dates import month_bounds, year_bounds
from answer.llm import LLMConfig, LLMError, cited_sentences, complete
from answer.precedent import RELATED, PrecedentList, report_place
from answer.relevance import judge_asked
from answer.sentences import Reply, Sentence, extractive_answer, lead_sentences, scorer_for
from answer.understand import Understanding
from chat.conversation import follow_up_query
from index.engine import DEFAULT_MODE, MODES, SearchEngine, result_dict
from index.expand import expand_query
from index.filters import Filters, place_filters
from index.retrieval import Hit
from index.store import default_index_dir, try_read_manifest
from ingest.places import Gazetteer, Place

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 200
MAX_PASSAGES = 10
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class AskOptions:
    k: int = 5
    mode: str = DEFAULT_MODE
    cities: tuple[str, ...] = ()  # any name the gazetteer knows: 达州, 达州市, Dazhou, 大竹县
    date_from: str = ""  # 2022, 2022-11 or 2022-11-02
    date_to: str = ""
    sections: tuple[str, ...] = ()
    # understood parts the user removed: "place:达州市", "date", "precedent"
    drop: tuple[str, ...] = ()
    precedent: bool | None = None  # the 查先例 switch; None: decided by the wording ("哪些市州…")


def _version(manifest: dict) -> tuple:
    """What tells one published index from the next: its time (to the second) and its segments
    (an update that appends one can land within the same second, index/segments.py)."""
    return manifest.get("created_at"), tuple(s.get("name") for s in manifest.get("segments") or ())


class IndexWatcher:
    """Holds the current engine; a background thread reopens the index when its
    manifest changes (an ingest finished), reusing the loaded embedder."""

    def __init__(self, index_dir: Path, engine: SearchEngine, interval: float = 2.0):
        self.index_dir, self.engine, self.interval = index_dir, engine, interval
        self._stamp = _version(engine.manifest)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-watcher", daemon=True)

    def start(self) -> "IndexWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> bool:
        """Reload if the index on disk is newer; True when it did."""
        manifest = try_read_manifest(self.index_dir)
        if not manifest or _version(manifest) == self._stamp:
            return False
        try:
            engine = SearchEngine.open(
                self.index_dir, embedder=self.engine.retrievers["dense"].embedder
            )
        except Exception as exc:  # keep answering from the old index; say why in the log
            log.warning(
                "index at %s changed but could not be loaded (%s); still serving the previous one",
                self.index_dir,
                exc,
            )
            self._stamp = _version(manifest)
            return False
        self.engine, self._stamp = engine, _version(engine.manifest)
        log.info(
            "index reloaded: %s bulletins, %s chunks",
            engine.manifest["counts"]["bulletins"],
            engine.manifest["counts"]["chunks"],
        )
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:
                # a damaged or foreign index, or one mid-swap: keep serving, keep watching
                log.warning("index check failed (still serving the loaded index): %s", exc)


@dataclass
class Assistant:
    watcher: IndexWatcher
    llm: LLMConfig | None = None

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        llm: LLMConfig | None = None,
        watch: bool = True,
        interval: float = 2.0,
        engine: SearchEngine | None = None,
    ) -> "Assistant":
        """engine: an already opened engine over index_dir (eval), so the model is not loaded
        twice."""
        index_dir = Path(index_dir) if index_dir else default_index_dir()
        watcher = IndexWatcher(index_dir, engine or SearchEngine.open(index_dir), interval)
        if watch:
            watcher.start()
        return cls(watcher, llm)

    @property
    def engine(self) -> SearchEngine:
        return self.watcher.engine

    # ---- what the page shows about the archive ------------------------------------------
    def corpus_summary(self) -> str:
        """ "已收录的5期简报（2020年7月—2024年3月）"."""
        every = self.engine.stored.bulletin_dates
        dates = sorted(filter(None, every.values()))
        span = f"（{_month(dates[0])}—{_month(dates[-1])}）" if dates else ""
        return f"已收录的{len(every)}期简报{span}"

    def cities(self) -> list[str]:
        return [p.name for p in self.engine.gazetteer.cities()]

    def sections(self) -> list[str]:
        return self.engine.sections

    # ---- answering ------------------------------------------------------------------------
    def ask(
        self, question: str, options: AskOptions = AskOptions(), previous: str | None = None
    ) -> dict:
        started = time.perf_counter()
        engine = self.engine  # one index for the whole answer, even if a reload lands meanwhile
        question, notices = _tidy_question(question, options.mode)
        query = follow_up_query(question, previous, engine.gazetteer) or question
        if query != question:
            notices.append(f"接上一个问题，按“{query}”检索。")
        filters = self.filters(options)
        k = max(1, min(int(options.k), MAX_PASSAGES))
        asked = ask(
            engine, query, k, options.mode, filters, drop=options.drop, precedent=options.precedent
        )
        if asked.precedent is not None and not asked.precedent.count:
            # a list asked for (by the wording "各县…" or the 查先例 box) where nothing qualifies
            # as a precedent: answer it as a plain question instead of an empty list
            asked = ask(engine, query, k, options.mode, filters, drop=options.drop, precedent=False)
            if options.precedent:
                notices.append("没有可按市州列出的条目（未见写明做了此事），以下按普通问题回答。")
        verdict = judge_asked(engine, asked)
        plist = asked.precedent
        results = _results(asked)
        found = verdict.found and bool(results)
        reason = verdict.reason if not verdict.found else None
        if not results:  # the filters left nothing: say which, not a judgement on the topic
            reason = _nothing_within(options) or reason or "没有找到段落"
        notices += asked.notes
        answer, text, source = Reply(()), "", "none"
        passages = [r.get("passage") or r["text"] for r in results]
        if found and plist is not None:
            answer = _precedent_quotes(plist)
            lines = [f"{s.text}[{s.passage}]" for s in answer.sentences]
            if plist.related:
                lines.append(f"{plist.related_summary}（只提及，未见写明做了此事）。")
            text, source = "\n".join([f"{plist.summary}。", *lines]), "precedent"
        elif found:
            quotable = _quotable(asked, engine.gazetteer)
            titles = [r.get("title") or "" for r in results]
            answer, text, source, notice = self._answer(engine, query, passages, quotable, titles)
            if notice:
                notices.append(notice)
        for number, result in enumerate(results, 1):
            result["citation"] = house_citation(result)
            result["highlights"] = [list(span) for span in answer.highlights(number)]
        return {
            "question": question,
            "query": query,
            "found": found,
            "not_found_message": (
                None if found else self.not_found_message(question, reason, bool(results))
            ),
            "answer": text,
            "answer_source": source,
            "results": results,
            "understood": asked.understanding.to_dict() if asked.understanding else None,
            "precedent": plist.to_dict() if plist is not None else None,
            "relevance": verdict.to_dict(),
            "filters": _filters_dict(filters),
            "notices": notices,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
            "_answer": asked,  # for exports; dropped before leaving the process (see public())
        }

    def not_found_message(self, question: str, reason: str | None, nearest: bool = True) -> str:
        why = f"（{reason}）" if reason else ""
        return f"在{self.corpus_summary()}中未找到“{question}”的答案{why}。" + (
            "以下段落可能相关，仅供参考。" if nearest else ""
        )

    def _answer(
        self,
        engine: SearchEngine,
        query: str,
        passages: list[str],
        quotable: set[int] | None = None,
        titles: list[str] | None = None,
    ) -> tuple[Reply, str, str, str | None]:
        """(highlighted sentences, answer text, "extractive" | "llm", notice). The extractive
        answer gives the highlights; a model's reply replaces its text when it cites.
        quotable: the passage numbers the reply may quote (None: all)."""
        text = expand_query(query, engine.gazetteer)
        extractive = extractive_answer(
            text,
            passages,
            scorer_for(engine),
            semantic=_meaning(engine, text),
            eligible=quotable,
            titles=titles,
        )
        if self.llm is None:
            return extractive, extractive.text, "extractive", None
        try:
            kept = cited_sentences(complete(self.llm, query, passages), len(passages))
        except LLMError as exc:
            return extractive, extractive.text, "extractive", f"{exc}，以下为原文摘录。"
        if not kept:
            return (
                extractive,
                extractive.text,
                "extractive",
                "语言模型的回答没有可核对的引用，以下为原文摘录。",
            )
        cited = {n for s in kept for n in s.passages}
        highlighted = tuple(
            s for s in extractive.sentences if s.passage in cited
        ) or lead_sentences(passages, sorted(cited))
        return Reply(highlighted), "".join(s.text for s in kept), "llm", None

    def filters(self, options: AskOptions) -> Filters:
        try:
            cities, places = place_filters(options.cities, self.engine.gazetteer)
        except KeyError as unknown:
            raise ValueError(
                f"不认识的地名“{unknown.args[0]}”：请填写四川的市州或区县名，如 达州、大竹县。"
            ) from None
        date_from, date_to = (
            date_bound(options.date_from, end=False),
            date_bound(options.date_to, end=True),
        )
        if date_from and date_to and date_from > date_to:
            raise ValueError(f"起始日期（{options.date_from}）晚于截止日期（{options.date_to}）。")
        return Filters(
            cities,
            places,
            date_from,
            date_to,
            tuple(s.strip("【】") for s in options.sections if s),
        )

    def export_files(self, record: dict, folder: Path) -> dict[str, Path]:
        """The answer's passages (or precedent list) as Markdown, CSV and Word files, for
        download."""
        from answer.export import export

        asked = record.get("_answer")
        if asked is None or not record["results"]:
            return {}
        folder.mkdir(parents=True, exist_ok=True)
        stem = export_stem(record, date.today())
        files = {}
        for fmt, suffix in (("md", ".md"), ("csv", ".csv"), ("docx", ".docx")):
            path = folder / f"{stem}{suffix}"
            try:
                path.write_bytes(export(asked, fmt))
            except (ValueError, OSError) as exc:  # one format failing must not cost the answer
                log.warning("export %s failed: %s", fmt, exc)
                continue
            files[fmt] = path
        return files

    # ---- the full bulletin ------------------------------------------------------------------
    def full_text(self, chunk_id: str) -> dict:
        engine = self.engine
        row = engine.stored.row_of(chunk_id)
        if row is None:
            raise KeyError(f"没有编号为 {chunk_id} 的段落（索引可能已更新，请重新提问）")
        chunk = engine.stored.chunks[row]
        bulletin = engine.bulletin(chunk.doc_id)
        citation = house_citation(result_dict(Hit(chunk, 0.0, row), 1))
        return {
            "doc_id": chunk.doc_id,
            "chunk_id": chunk_id,
            "citation": citation,
            "text": bulletin["text_clean"],
            "start": chunk.start,
            "end": chunk.end,
            "date": bulletin.get("date"),
            "issuer": bulletin.get("issuer"),
            "issue_no": bulletin.get("issue_no"),
            "date_estimate": bulletin.get("date_estimate"),
        }


def _meaning(engine: SearchEngine, text: str):
    """Cosines of the question with answer units, from the vectors stored with the index;
    None for an index built without them (replies then go by words alone)."""
    units = engine.stored.sentences
    if units is None:
        return None
    dense = engine.retrievers["dense"]
    vector = dense.query_vector(text)[0]
    return lambda texts: units.cosines(vector, texts, dense.embedder.embed_passages)


def _quotable(asked: UnderstoodSearch, gazetteer: Gazetteer) -> set[int] | None:
    """The passages a reply may quote: when the question names a place, only that place's
    items (a county's city's only when the county has none; a city's own reports, not its
    counties', when it names the city's office and its own report ranks first), so another
    place never answers for it; when it names a time and some passages fit it, not those
    dated outside it."""
    u = asked.understanding
    if u is None or not (u.places or u.dates):
        return None
    why = [hit.why["understanding"] for hit in asked.hits]
    # the asked place's own items first: a county's city speaks for it only when it has none
    best = max((w["place"] for w in why), default=0.0)
    fits = {
        n for n, w in enumerate(why, 1) if not u.places or (w["place"] > 0 and w["place"] >= best)
    }
    if asks_city_own(u.query):  # "成都市地方志办公室…": its own reports, when one ranks first
        own = {n for n in fits if _city_own_report(asked.hits[n - 1], u, gazetteer)}
        fits = own if own and min(own) == min(fits) else fits
    timely = {n for n in fits if why[n - 1]["date"] != "out"}
    return timely if u.dates and timely else fits


def _city_own_report(hit: Hit, u: Understanding, gazetteer: Gazetteer) -> bool:
    """Is the hit a report of an asked city itself (its source office), not of its counties?"""
    place = report_place(hit.chunk.meta, gazetteer)
    return isinstance(place, Place) and any(p.place == place for p in u.places)


def _nothing_within(options: AskOptions) -> str | None:
    """ "所选筛选条件下没有段落：时间：2025—最新" when filters are set, else None."""
    chosen = []
    if options.cities:
        chosen.append("市州：" + "、".join(options.cities))
    if options.date_from or options.date_to:
        chosen.append(f"时间：{options.date_from or '最早'}—{options.date_to or '最新'}")
    if options.sections:
        chosen.append("栏目：" + "、".join(options.sections))
    return f"所选筛选条件下没有段落：{'；'.join(chosen)}" if chosen else None


def _tidy_question(question: str | None, mode: str) -> tuple[str, list[str]]:
    """The question without control characters and cut to MAX_QUESTION_CHARS, with a notice
    when it was cut; ValueError for an empty question or an unknown mode."""
    notices = []
    # pasted text may carry control characters
    question = " ".join(_CONTROL.sub(" ", question or "").split())
    if len(question) > MAX_QUESTION_CHARS:
        question = question[:MAX_QUESTION_CHARS]
        notices.append(f"问题过长，只按前{MAX_QUESTION_CHARS}字检索。")
    if not question:
        raise ValueError("请输入问题。")
    if mode not in MODES:
        raise ValueError(f"未知的检索方式 {mode!r}，可选：{'、'.join(MODES)}")
    return question, notices


def _results(asked: UnderstoodSearch) -> list[dict]:
    """The passages as search-contract dicts: a precedent list's counted entries (grouped by
    市州) then its related ones, else the hits."""
    plist = asked.precedent
    if plist is not None:
        listed = [(e, e.group) for e in plist.entries] + [(e, RELATED) for e in plist.related]
        return [
            {
                **entry.result,
                "rank": n,
                "passage": entry.text,
                "group": group,
                "entry_date": entry.date,
            }
            for n, (entry, group) in enumerate(listed, 1)
        ]
    return [result_dict(hit, rank) for rank, hit in enumerate(asked.hits, 1)]


def _precedent_quotes(plist: PrecedentList) -> Reply:
    """One quote per counted entry: the sentence showing the asked action (its card number
    is its place in the list)."""
    quotes = []
    for number, entry in enumerate(plist.entries, 1):
        if entry.quote:
            start, end = entry.quote
            quotes.append(Sentence(number, start, end, entry.text[start:end]))
    return Reply(tuple(quotes))


_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\s。，、？！；：“”‘’（）()\[\]【】《》]+')


def export_stem(record: dict, day: date) -> str:
    """The exported files' name: what they are, the question's topic and the day,
    "先例_印发了品读季实施方案_2026-11-30", safe on Windows and in a zip."""
    kind = "先例" if record.get("precedent") else "检索结果"
    understood = record.get("understood") or {}
    topic = understood.get("topic") or record.get("query") or record.get("question") or ""
    topic = _UNSAFE_IN_NAMES.sub("", topic)[:20]
    return "_".join(part for part in (kind, topic, day.isoformat()) if part)


def public(record: dict) -> dict:
    """The record as the API returns it (plain JSON: no internal objects)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def date_bound(text: str, end: bool) -> str | None:
    """ "2022" / "2022-11" / "2022-11-02" (also 2022年11月) -> an ISO day: the first day of the
    period for a lower bound, its last day for an upper one."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(
        r"(\d{4})(?:\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?)?\s*月?)?\s*年?", text
    )
    if not match:
        raise ValueError(f"日期“{text}”看不懂：请写成 2022、2022-11 或 2022-11-02。")
    year = int(match[1])
    month = int(match[2]) if match[2] else None
    day = int(match[3]) if match[3] else None
    try:
        if month == 0 or day == 0:
            raise ValueError
        if day:
            return date(year, month, day).isoformat()
        low, high = month_bounds(year, month) if month else year_bounds(year)
    except ValueError:
        raise ValueError(f"日期“{text}”不存在。") from None
    return (high if end else low).isoformat()


def _month(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月"


def _filters_dict(filters: Filters) -> dict:
    return {
        "cities": list(filters.cities),
        "places": list(filters.places),
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "sections": list(filters.sections),
    }
