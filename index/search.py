"""Search the bulletin index from the command line.

Examples:
  python -m index.search "达州 年鉴质量"
  python -m index.search --json -k 3 "what did Dazhou decide on yearbook quality"
  python -m index.search --mode bm25 --city 达州 --from 2022-01-01 --to 2022-12-31 "年鉴质量"
  python -m index.search --queries questions.jsonl --json      # one JSON object per line,
                                                               # each with its "id"
  python -m index.search "哪些市州印发了品读季实施方案" --export 先例.docx   # precedent list,
                                                                             # for a draft
  python -m index.search --precedent "年鉴篇目审查"              # list every matching item, by 市州
  python -m index.search --drop date "去年达州的年鉴工作"           # ignore the time the question
                                                                    # names

The question's places (达州 includes its counties), time (2022年, 去年, 2023年下半年, last year)
and list intent (哪些市州…, 各地…, which cities…) are understood (answer/understand.py) and
shown on the first line; --drop removes a part, --no-understand searches the words only.
--export FILE.md|.csv|.docx writes the precedent list (or the results) with house citations.

--json prints the search contract (DESIGN.md): {"query", "results": [{"rank", "chunk_id",
"doc_id", "text", "score", "title", "date", "section", "places", "source_org", "start", "end"}]},
plus "relevance": {"found", "reason", ...}: whether any passage passes the "not found" rule
(answer/relevance.py). Results are listed either way: when not found they are only near misses.
Extra keys: "understood" (what was read from the question, with droppable "parts"), "undated"
(passages of unknown date kept apart, when a time was asked and the policy separates them),
"precedent" (the grouped list, in precedent mode) and "notes".
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from answer.ask import Policy, UnderstoodSearch, ask
from answer.citation import unknown_date_label
from answer.export import export_to, format_for
from answer.precedent import PrecedentList
from answer.relevance import DEFAULT_MIN_BM25, MIN_BM25_ENV, Verdict, judge_asked, policy_from_env
from index.engine import DEFAULT_MODE, MODES, SearchEngine, result_dict
from index.filters import Filters, place_filters
from index.store import default_index_dir, jsonl_lines
from ingest.cli_errors import exit_on_error
from ingest.errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m index.search",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_query_options(parser)
    _add_filter_options(parser)
    _add_understanding_options(parser)
    return parser


def _add_query_options(parser: argparse.ArgumentParser) -> None:
    """The question(s), how many passages, the output, the index, the retrieval mode."""
    parser.add_argument("query", nargs="?", help="the question or keywords (omit with --queries)")
    parser.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    parser.add_argument("--json", action="store_true", help="print the JSON search contract")
    parser.add_argument(
        "--queries",
        metavar="FILE.jsonl",
        help='lines of {"id": ..., "query": ...}; one JSON result per line',
    )
    parser.add_argument(
        "--index",
        metavar="DIR",
        help=f"index folder (default {default_index_dir()}, or $BULLETIN_INDEX_DIR)",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=DEFAULT_MODE,
        help=f"retrieval mode (default {DEFAULT_MODE})",
    )


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    """Hard filters: city, dates, section."""
    parser.add_argument(
        "--city",
        action="append",
        default=[],
        metavar="NAME",
        help="only this 市州 and its counties (repeatable; 达州, 达州市, Dazhou)",
    )
    parser.add_argument(
        "--from",
        dest="date_from",
        metavar="YYYY-MM-DD",
        help="only items dated on or after this day",
    )
    parser.add_argument(
        "--to", dest="date_to", metavar="YYYY-MM-DD", help="only items dated on or before this day"
    )
    parser.add_argument(
        "--section",
        action="append",
        default=[],
        metavar="NAME",
        help="only this section, e.g. 市州动态 (repeatable)",
    )


def _add_understanding_options(parser: argparse.ArgumentParser) -> None:
    """The "not found" rule, understanding, precedent lists, export, the policy."""
    parser.add_argument(
        "--min-bm25",
        type=float,
        metavar="SCORE",
        help=(
            "'not found' below this top BM25 score, for questions without a content word the "
            f"archive uses (default {DEFAULT_MIN_BM25}, or ${MIN_BM25_ENV})"
        ),
    )
    parser.add_argument(
        "--no-understand",
        action="store_true",
        help="search the words only: no place, time or list understanding",
    )
    parser.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="PART",
        help=(
            "ignore an understood part: place, date, precedent,"
            " or one place as place:达州市 (repeatable)"
        ),
    )
    parser.add_argument(
        "--precedent",
        dest="precedent",
        action="store_const",
        const=True,
        default=None,
        help="precedent mode: every matching item above the relevance threshold, grouped by 市州",
    )
    parser.add_argument(
        "--no-precedent",
        dest="precedent",
        action="store_const",
        const=False,
        help="never precedent mode, even for 哪些市州… questions",
    )
    parser.add_argument(
        "--export",
        metavar="FILE",
        help="write the precedent list (or the results) to FILE.md, .csv or .docx",
    )
    parser.add_argument(
        "--policy",
        default="",
        metavar="K=V,…",
        help="place/date policy, e.g. place=filter,date=filter (answer/ask.py)",
    )


def make_filters(args: argparse.Namespace) -> Filters:
    from ingest.places import load_gazetteer

    try:
        cities, places = place_filters(args.city, load_gazetteer())
    except KeyError as unknown:
        raise UsageError(
            f"unknown place {unknown.args[0]!r}: give a "
            "Sichuan 市州 or county name, e.g. 达州 or 大竹县"
        ) from None
    for value, flag in ((args.date_from, "--from"), (args.date_to, "--to")):
        if value:
            _check_date(value, flag)
    sections = [s.strip("【】") for s in args.section]
    return Filters(cities, places, args.date_from, args.date_to, tuple(sections))


def _check_date(value: str, flag: str) -> None:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{flag} {value!r} is not a date; use YYYY-MM-DD, e.g. 2022-11-02"
        ) from None


def format_text(query: str, results: list[dict], verdict: Verdict | None = None) -> str:
    if not results:
        return f"未找到与“{query}”相关的段落。"
    if verdict is not None and not verdict.found:
        lines = [
            f"未找到“{query}”的答案（{verdict.reason}）。最接近的 {len(results)} 条，可能相关：",
            "",
        ]
    else:
        lines = [f"“{query}” 的前 {len(results)} 条结果：", ""]
    for r in results:
        date = r["date"] or unknown_date_label(r.get("date_estimate"))
        head = f"[{r['rank']}] {date} 【{r['section'] or '—'}】 {r['title'] or '（无标题）'}"
        lines.append(head)
        details = []
        if r["places"]:
            details.append("地点：" + "、".join(r["places"]))
        if r["source_org"]:
            details.append("来源：" + r["source_org"])
        details.append(f"得分 {r['score']:.4f} · {r['chunk_id']}")
        lines.append("    " + " · ".join(details))
        lines.append("    " + r["text"].replace("\n", "\n    "))
        lines.append("")
    return "\n".join(lines)


def run(args: argparse.Namespace, out=sys.stdout) -> int:
    filters = make_filters(args)
    args.drop = [part.strip() for value in args.drop for part in value.split(",") if part.strip()]
    args.policy = Policy.parse(args.policy) if isinstance(args.policy, str) else args.policy
    if args.export:
        format_for(args.export)  # a bad suffix fails before the index is loaded
    engine = SearchEngine.open(args.index)
    if args.queries:
        for number, line in list(jsonl_lines(args.queries)):
            # the whole file read before the first answer
            try:
                row = json.loads(line)
                query_id, query = row["id"], row["query"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise UsageError(
                    f'{args.queries}:{number}: expected a JSON object with "id" and "query"'
                ) from None
            out.write(answer(engine, query, args, filters, query_id))
        return 0
    out.write(answer(engine, args.query, args, filters))
    return 0


def answer(
    engine: SearchEngine, query: str, args: argparse.Namespace, filters: Filters, query_id=None
) -> str:
    found = ask(
        engine,
        query,
        args.k,
        args.mode,
        filters,
        understand=not args.no_understand,
        drop=args.drop,
        precedent=args.precedent,
        policy=args.policy,
    )
    results = [result_dict(h, i) for i, h in enumerate(found.hits, 1)]
    policy = policy_from_env()
    if args.min_bm25 is not None:
        policy = replace(policy, min_bm25=args.min_bm25)
    verdict = judge_asked(engine, found, policy)
    if args.export and query_id is None:
        path = export_to(found, args.export)
        print(f"已导出 / exported: {path}", file=sys.stderr)
    if args.json:
        head = {"id": query_id} if query_id is not None else {}
        payload = {**head, "query": query, "results": results, "relevance": verdict.to_dict()}
        payload["understood"] = found.understanding.to_dict() if found.understanding else None
        if found.undated:
            payload["undated"] = [result_dict(h, i) for i, h in enumerate(found.undated, 1)]
        if found.precedent:
            payload["precedent"] = found.precedent.to_dict()
        if found.notes:
            payload["notes"] = found.notes
        return json.dumps(payload, ensure_ascii=False) + "\n"
    text = format_answer(found, results, verdict) + "\n"
    return f"## {query_id}\n{text}" if query_id is not None else text


def format_answer(
    found: UnderstoodSearch, results: list[dict], verdict: Verdict | None = None
) -> str:
    """The headline, the understood line under it, then the precedent list (in precedent mode)
    or the passages."""
    body = (
        format_precedent(found.precedent)
        if found.precedent is not None
        else format_text(found.query, results, verdict)
    )
    headline, _, rest = body.partition("\n")
    lines = [headline]
    if found.understanding and found.understanding.summary:
        lines.append(
            f"理解为：{found.understanding.summary}（--drop place / date / precedent 可去掉）"
        )
    lines += [f"注意：{note}" for note in found.notes]
    lines.append(rest)
    if found.precedent is None and found.undated:
        undated = [result_dict(h, i) for i, h in enumerate(found.undated, len(results) + 1)]
        lines.append(f"另有 {len(undated)} 条日期不详的相关段落（可能也在所问时间内）：\n")
        lines.append(format_text(found.query, undated).split("\n", 2)[2])
    return "\n".join(lines)


def format_precedent(plist: PrecedentList) -> str:
    lines = [f"先例：{plist.summary}", ""]
    for group in plist.groups:
        lines.append(f"【{group.listed}】{len(group.entries)}条")
        for entry in group.entries:
            when = entry.date or unknown_date_label(entry.result.get("date_estimate"))
            lines.append(f"  {when} · {entry.place} · {entry.result.get('title') or '（无标题）'}")
            lines.append(f"    出处：{entry.citation}")
            excerpt = entry.text.replace("\n", " ")
            lines.append(f"    {excerpt[:160]}{'…' if len(excerpt) > 160 else ''}")
        lines.append("")
    return "\n".join(lines).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.query and not args.queries:
        parser.error("give a query, or --queries FILE.jsonl")
    if args.k < 1:
        parser.error("-k must be at least 1")
    with exit_on_error(ValueError, OSError):  # one line on stderr, status 2
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
