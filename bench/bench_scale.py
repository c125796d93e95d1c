"""Scale benchmark: a synthetic 20-year archive of N passages, built and searched by the
project's own code with a stub embedder. Prints one JSON line; asserts nothing.

    python bench/bench_scale.py --chunks 100000              # build in a temp dir, measure
    python bench/bench_scale.py --chunks 100000 --workdir /tmp/s100k   # keep it ...
    python bench/bench_scale.py --chunks 100000 --workdir /tmp/s100k --reuse  # ... and reuse it

The archive. The five sample bulletins are parsed once (ingest.pipeline.parse_file); bulletin
j of the archive is sample j mod 5 rewritten: its date is moved so the bulletins spread evenly
over 2005-01-01..2024-12-31 (one in ten copies of the undated sample stays undated, its
estimated year moved the same way: ~2% of the bulletins), the years its text names move with
it (month and day numbers in the text are left as they are), its other numbers get a digit
permutation, common verbs are swapped for a near-synonym at random (bench/synthetic.py's
pairs), and its cities are permuted over the 21 cities of the gazetteer (full names, short
names, 阿坝州-style forms; each county named moves to a county of its new city), in the text,
the titles and the places and cities of its items.
The bulletin's own chunker (ingest.chunking.chunk_bulletin) then makes its passages and
index.build._bulletin_record its record, so every passage and record is shaped exactly like an
ingested one; doc ids are syn000000, syn000001, ... and each has an (empty) placeholder file
under WORKDIR/bulletins/, which is what lets index.build.update_index keep it when one more
bulletin is added. The last bulletin is cut short so the index holds exactly N passages.
Passages and records are spooled to WORKDIR/synthetic/ in index row order (a million passages
as Python objects would not fit in memory) and read back one at a time by the writer.

The build is index.build.write_chunks_index (the writer every ingest ends in) with
with_sentences=False: the answer units' vectors are not built (at 1M passages they would be
~6M vectors, ~9 GB), and no embedding cache. Embeddings come from bench/stub_embedder.py
(--stub words, the default: a sum of random vectors per character bigram, so texts sharing
words are neighbours as in real embeddings; --stub random: random unit vectors seeded by a hash
of the text, which have no neighbours, so an approximate index's recall on them means nothing;
dim 384 like multilingual-e5-small), for passages and queries alike, so no model runs and
embedding cost is left out: build_s is the writer's own cost (plus the stub's, build_embed_s).
--ann-over N sets the size past which the vector index is approximate (index/vector_index.py).

What is measured (each step in its own process, so memory and start-up are not shared):
- build_s, build_peak_rss_mb: write_chunks_index's wall time (reading the spool included); the
  build process's peak RSS (synthesis included).
- disk_mb: the index folder.
- load_s, rss_mb: SearchEngine.open in a fresh process (imports excluded: import_s); RSS after.
- *_p50_ms / *_p95_ms over --queries dev questions (eval/questions/dev.jsonl, spread over the
  file), k=5, query vectors computed before timing: engine.search in bm25, dense, hybrid,
  hybrid with Filters(cities=("达州市",)), hybrid with a 2-year date filter; answer.ask.ask
  (understood search, after one untimed dated question, as in a running app).
- first_dated_s: a fresh process opens the index and asks one question naming a year; seconds
  from starting the process to holding the answer.
- add_one_s: index.build.update_index adds one new bulletin (a varied sample file) to a copy
  of the index. The first update of this index also embeds every answer unit and fills the
  embedding cache, since the benchmark built it without them (add_first_s); add_one_s is the
  second bulletin, the steady state of an index built by ingest.
- ann_recall_at_10: the dense retriever's top 10 against exact inner-product search over the
  same vectors (numpy); 1.0 for an exact flat index, measured for an approximate one
  (ann_index names the kind).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from index.build import (
    DEFAULT_TOKENIZER,
    _bulletin_record,
    _TimedEmbedder,
    pipeline_fingerprint,
    update_index,
    write_chunks_index,
)
from index.vector_index import ann_over
from ingest.chunking import ChunkingParams, chunk_bulletin
from ingest.model import Bulletin, Chunk, Report, Span
from ingest.paths import SAMPLE_BULLETINS
from ingest.places import Gazetteer, Place, load_gazetteer
from stub_embedder import STUBS
from synthetic import SYNONYMS

KEYS = (
    "chunks",
    "build_s",
    "build_peak_rss_mb",
    "disk_mb",
    "load_s",
    "rss_mb",
    "bm25_p50_ms",
    "dense_p50_ms",
    "hybrid_p50_ms",
    "hybrid_city_p50_ms",
    "hybrid_date_p50_ms",
    "ask_p50_ms",
    "ask_p95_ms",
    "first_dated_s",
    "add_one_s",
    "ann_recall_at_10",
)
GENERATOR = 2  # bump when the synthetic archive changes: --reuse then rebuilds
DEFAULT_STUB = (
    "words"  # bench/stub_embedder.py: vectors with neighbours, so ANN recall means something
)
FIRST_DAY, LAST_DAY = date(2005, 1, 1), date(2024, 12, 31)
CITY_FILTER = ("达州市",)
DATE_FILTER = ("2014-01-01", "2015-12-31")
DATED_QUESTION = "2018年达州市在年鉴质量上做了什么"
K = 5
UNDATED_EVERY = 10  # copies of the undated sample: one in ten stays undated
_SYNONYM_OF = {a: b for pair in SYNONYMS for a, b in (pair, pair[::-1])}


def log(message: str) -> None:
    print(f"[bench_scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    """Resident memory now (VmRSS), else the peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


# ---- the synthetic archive ------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A parsed sample bulletin and the pattern of what its copies rewrite."""

    bulletin: Bulletin
    pattern: re.Pattern
    chunks: int


@dataclass(frozen=True)
class Places:
    """The gazetteer's 21 cities, their counties, and the name forms copies rewrite."""

    cities: tuple[Place, ...]
    counties: dict[str, tuple[Place, ...]]  # city name -> its counties
    surfaces: dict[str, tuple[str, Place]]  # written form -> (kind, place)

    @classmethod
    def of(cls, gazetteer: Gazetteer) -> "Places":
        cities = tuple(gazetteer.cities())
        counties = {c.name: tuple(gazetteer.counties_of(c.name)) for c in cities}
        surfaces: dict[str, tuple[str, Place]] = {}
        for city in cities:
            short = gazetteer.short_name(city)
            surfaces[city.name] = ("full", city)
            surfaces.setdefault(short, ("short", city))
            if city.name.endswith("自治州"):
                surfaces.setdefault(short + "州", ("zhou", city))  # 阿坝州
        for group in counties.values():
            for county in group:
                if county.name not in ("东区", "西区"):  # also plain words
                    surfaces.setdefault(county.name, ("county", county))
        return cls(cities, counties, surfaces)

    def written(self, place: Place, kind: str, gazetteer: Gazetteer) -> str:
        if kind == "short":
            return gazetteer.short_name(place)
        if kind == "zhou" and place.name.endswith("自治州"):
            return gazetteer.short_name(place) + "州"
        return place.name  # a full name, a county, or 阿坝州 moved to a city (德阳市)


def load_templates(gazetteer: Gazetteer, places: Places) -> list[Template]:
    from ingest.pipeline import parse_file

    templates = []
    for path in sorted(SAMPLE_BULLETINS.glob("*.txt")):
        parsed = parse_file(path, path.stem, gazetteer)
        bulletin = parsed.bulletin
        seen = bulletin.text_clean + "".join(
            f"{i.title}{i.subtitle or ''}{i.source_org or ''}" for i in bulletin.items
        )
        names = sorted((s for s in places.surfaces if s in seen), key=lambda s: (-len(s), s))
        pattern = re.compile(
            r"(?P<year>(?:19|20)\d\d)(?=\s*[年卷）)])"
            r"|(?P<keep>\d{1,2})(?=\s*[月日])"
            r"|(?P<number>\d+)"
            r"|(?P<word>"
            + "|".join(_SYNONYM_OF)
            + ")"
            + (r"|(?P<place>" + "|".join(map(re.escape, names)) + ")" if names else "")
        )
        templates.append(Template(bulletin, pattern, len(parsed.chunks)))
    return templates


class _Copy:
    """How one synthetic bulletin rewrites its template: year shift, digits, places."""

    def __init__(
        self,
        number: int,
        template: Template,
        day: date,
        places: Places,
        gazetteer: Gazetteer,
        undated: bool,
    ):
        rng = random.Random(f"bench_scale:{number}")
        original = template.bulletin
        self.places, self.gazetteer = places, gazetteer
        self.rng = rng
        if original.date or not undated:
            # the undated sample's copies get a date, but for one in UNDATED_EVERY
            old = date.fromisoformat(original.date or f"{original.date_estimate or 2024}-07-01")
            self.days = (day - old).days
            self.years = day.year - old.year
            self.date, self.estimate = day.isoformat(), None
        else:  # stays undated, its estimated year moved
            estimate = int(original.date_estimate or day.year)
            self.days, self.years = None, day.year - estimate
            self.date, self.estimate = None, str(day.year)
        digits = list("0123456789")
        rng.shuffle(digits)
        self.digits = str.maketrans("0123456789", "".join(digits))
        shuffled = list(places.cities)
        rng.shuffle(shuffled)
        self.city = {old.name: new for old, new in zip(places.cities, shuffled)}

    def county(self, county: Place) -> Place:
        choices = self.places.counties[self.city[county.city].name]
        digest = hashlib.blake2b(county.name.encode(), digest_size=4).digest()
        return choices[int.from_bytes(digest, "little") % len(choices)]

    def place(self, place: Place) -> Place:
        return self.county(place) if place.level == "county" else self.city[place.name]

    def label(self, label: str) -> str:
        """A meta place label ("达州市", "达州市 › 大竹县") of the template, moved."""
        city, _, county = label.partition(" › ")
        new_city = self.city.get(city)
        if new_city is None:
            return label
        if not county:
            return new_city.name
        old = next((c for c in self.places.counties[city] if c.name == county), None)
        return self.county(old).label if old else f"{new_city.name} › {county}"

    def event_date(self, iso: str) -> str:
        day = date.fromisoformat(iso)
        if self.days is not None:
            return (day + timedelta(days=self.days)).isoformat()
        try:
            return day.replace(year=day.year + self.years).isoformat()
        except ValueError:  # 29 February
            return day.replace(year=day.year + self.years, day=28).isoformat()

    def replace_match(self, match: re.Match) -> str:
        kind, value = match.lastgroup, match.group()
        if kind == "year":
            return str(int(value) + self.years)
        if kind == "keep":
            return value
        if kind == "number":
            return value.translate(self.digits)
        if kind == "word":
            return _SYNONYM_OF[value] if self.rng.random() < 0.5 else value
        surface_kind, place = self.places.surfaces[value]
        return self.places.written(self.place(place), surface_kind, self.gazetteer)


def _rewrite(text: str, pattern: re.Pattern, repl) -> tuple[str, list[int], list[int]]:
    """The text rewritten, and where its length changed: (new text, old offsets, shift at and
    after each of them)."""
    out, at, shifts = [], [0], [0]
    last = delta = 0
    for match in pattern.finditer(text):
        new = repl(match)
        out += [text[last : match.start()], new]
        last = match.end()
        if len(new) != last - match.start():
            delta += len(new) - (last - match.start())
            at.append(last)
            shifts.append(delta)
    out.append(text[last:])
    return "".join(out), at, shifts


def synthetic_bulletin(
    number: int,
    template: Template,
    day: date,
    places: Places,
    gazetteer: Gazetteer,
    folder: Path,
    undated: bool = False,
) -> Bulletin:
    """Bulletin `number` of the archive: its template rewritten (module docstring). undated: a
    copy of the undated sample stays undated (else it gets `day` as its date)."""
    copy = _Copy(number, template, day, places, gazetteer, undated)
    original = template.bulletin
    text, at, shifts = _rewrite(original.text_clean, template.pattern, copy.replace_match)

    def moved(span: Span | None) -> Span | None:
        if span is None:
            return None
        return Span(*(o + shifts[bisect_right(at, o) - 1] for o in (span.start, span.end)))

    def words(value: str | None) -> str | None:
        return template.pattern.sub(copy.replace_match, value) if value else value

    def labels(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(copy.label(v) for v in values))

    def dates(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(copy.event_date(v) for v in values)

    items = tuple(
        replace(
            item,
            title=words(item.title),
            subtitle=words(item.subtitle),
            title_span=moved(item.title_span),
            body_span=moved(item.body_span),
            source_org=words(item.source_org),
            source_span=moved(item.source_span),
            reports=tuple(
                Report(moved(r.span), labels(r.places), labels(r.cities), dates(r.event_dates))
                for r in item.reports
            ),
            places=labels(item.places),
            cities=labels(item.cities),
            event_dates=dates(item.event_dates),
        )
        for item in original.items
    )
    doc_id = f"syn{number:06d}"
    return replace(
        original,
        doc_id=doc_id,
        path=str(folder / f"{doc_id}.txt"),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        date=copy.date,
        date_source=original.date_source or ("header" if copy.date else None),
        date_estimate=copy.estimate,
        date_estimate_basis=original.date_estimate_basis if copy.estimate else None,
        text_clean=text,
        items=items,
    )


@dataclass(frozen=True)
class Spooled:
    """The synthetic archive on disk, in row order (the writer reads it back a row at a time: a
    million passages do not fit in memory as Python objects, ~9 KB each)."""

    folder: Path
    chunks: int
    bulletins: int
    dates: tuple[str, ...]  # the bulletins' dates (the undated have none)
    files: dict[str, dict]  # the manifest's file entries

    def chunk_rows(self) -> Iterator[Chunk]:
        for line in _lines(self.folder / "chunks.jsonl"):
            yield Chunk.from_dict(json.loads(line))

    def bulletin_rows(self) -> Iterator[dict]:
        for line in _lines(self.folder / "bulletins.jsonl"):
            yield json.loads(line)


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as handle:
        yield from handle


class _Spool:
    """Passages and bulletin records written in index row order: bulletin date, then doc id
    (index.build._renumber), undated bulletins last."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._chunks = open(folder / "chunks.jsonl", "w", encoding="utf-8")
        self._bulletins = open(folder / "bulletins.jsonl", "w", encoding="utf-8")
        self._undated: list[tuple[dict, list[Chunk]]] = []  # ~2% of the bulletins
        self._last: tuple[str, str] = ("", "")
        self.chunks = self.bulletins = 0
        self.dates: list[str] = []

    def add(self, record: dict, chunks: list[Chunk]) -> None:
        if record.get("date") is None:
            self._undated.append((record, chunks))
        else:
            self._write(record, chunks)

    def close(self) -> None:
        for record, chunks in self._undated:
            self._write(record, chunks)
        self._chunks.close()
        self._bulletins.close()

    def _write(self, record: dict, chunks: list[Chunk]) -> None:
        key = (record.get("date") or "9999", record["doc_id"])
        if key < self._last:
            raise RuntimeError(f"bulletin {key} comes after {self._last}: not in row order")
        self._last = key
        if record.get("date"):
            self.dates.append(record["date"])
        self._bulletins.write(json.dumps(record, ensure_ascii=False) + "\n")
        for chunk in chunks:
            self._chunks.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
        self.chunks += len(chunks)
        self.bulletins += 1


def synthetic_archive(n_chunks: int, folder: Path, spool: Path) -> Spooled:
    """An archive of exactly n_chunks passages, spooled in row order into the folder `spool`;
    an empty placeholder file per bulletin is written into folder."""
    gazetteer = load_gazetteer()
    places = Places.of(gazetteer)
    templates = load_templates(gazetteer, places)
    # Bulletins expected: a copy may have a passage more or less than its sample (a longer
    # place name moves a split), so the dates are spread over this many and the loop runs until
    # the passages are there (the last dates may fall a little short of LAST_DAY, or be clamped).
    expected = max(1, round(n_chunks * len(templates) / sum(t.chunks for t in templates)))
    span = (LAST_DAY - FIRST_DAY).days
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rows = _Spool(spool)
    files: dict[str, dict] = {}
    left, number = n_chunks, -1
    while left > 0:
        number += 1
        day = FIRST_DAY + timedelta(days=min(span, (number * span) // max(1, expected - 1)))
        template = templates[number % len(templates)]
        undated = template.bulletin.date is None and (number // len(templates)) % UNDATED_EVERY == 0
        bulletin = synthetic_bulletin(number, template, day, places, gazetteer, folder, undated)
        chunks = chunk_bulletin(bulletin)[:left]
        if not chunks:
            continue
        left -= len(chunks)
        Path(bulletin.path).touch()
        rows.add(_bulletin_record(bulletin), chunks)
        files[bulletin.path] = {
            "sha256": bulletin.sha256,
            "doc_id": bulletin.doc_id,
            "items": len(bulletin.items),
            "chunks": len(chunks),
        }
        if number and number % 10000 == 0:
            log(f"  {number} of ~{expected} bulletins")
    rows.close()
    return Spooled(spool, rows.chunks, rows.bulletins, tuple(rows.dates), files)


def stub():
    """The stub embedder this run uses (--stub, passed to each step's process as BENCH_STUB)."""
    return STUBS[os.environ.get("BENCH_STUB") or DEFAULT_STUB]()


# ---- the steps --------------------------------------------------------------------------------


def build(n_chunks: int, workdir: Path) -> dict:
    """Synthesise the archive (spooled to WORKDIR/synthetic) and write it with
    write_chunks_index into WORKDIR/index, a row at a time."""
    started = time.perf_counter()
    log(f"synthesising {n_chunks} passages")
    spool = workdir / "synthetic"
    archive = synthetic_archive(n_chunks, workdir / "bulletins", spool)
    synth_s = time.perf_counter() - started
    log(f"  {archive.chunks} passages of {archive.bulletins} bulletins in {synth_s:.1f} s; writing")
    synth_rss = rss_mb()
    embedder = _TimedEmbedder(stub())  # the ingest's own timer: build_embed_s
    started = time.perf_counter()
    write_chunks_index(
        workdir / "index",
        archive.chunk_rows(),
        archive.bulletin_rows(),
        embedder,
        DEFAULT_TOKENIZER,
        cache_path=None,
        extra_manifest={
            "pipeline": pipeline_fingerprint(ChunkingParams(), DEFAULT_TOKENIZER),
            "files": archive.files,
            "synthetic": {"generator": GENERATOR, "chunks": n_chunks},
        },
        spec=embedder.id,
        with_sentences=False,
    )
    build_s = time.perf_counter() - started
    log(f"  written in {build_s:.1f} s (stub embedding {embedder.seconds:.1f} s)")
    shutil.rmtree(spool)
    return {
        "chunks": archive.chunks,
        "bulletins": archive.bulletins,
        "undated_bulletins": archive.bulletins - len(archive.dates),
        "first_date": min(archive.dates, default=None),
        "last_date": max(archive.dates, default=None),
        "synth_s": round(synth_s, 2),
        "synth_rss_mb": round(synth_rss, 1),
        "build_s": round(build_s, 2),
        "build_embed_s": round(embedder.seconds, 2),
        "build_peak_rss_mb": round(peak_rss_mb(), 1),
        "generator": GENERATOR,
        "embedder": embedder.id,
        "ann_over": ann_over(),
    }


def pick_queries(count: int) -> list[str]:
    from eval.gold import load_questions

    questions = [q.query for q in load_questions()]
    step = max(1, len(questions) // max(1, count))
    return questions[::step][:count]


def _times(call, queries: list[str]) -> list[float]:
    out = []
    for query in queries:
        started = time.perf_counter()
        call(query)
        out.append((time.perf_counter() - started) * 1000)
    return out


def measure(index_dir: Path, queries: list[str]) -> dict:
    """Open the index and time every kind of search (run in a fresh process by main)."""
    started = time.perf_counter()
    import numpy as np

    from answer.ask import ask
    from eval.report import percentile
    from index.engine import SearchEngine
    from index.expand import expand_query
    from index.filters import Filters

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    engine = SearchEngine.open(index_dir, embedder=stub())
    load_s = time.perf_counter() - started
    out = {"import_s": round(import_s, 2), "load_s": round(load_s, 2), "rss_mb": round(rss_mb(), 1)}
    log(f"  opened in {load_s:.2f} s, RSS {out['rss_mb']:.0f} MB")

    dense = engine.retrievers["dense"]
    for query in queries:  # "query vector precomputed": the dense retriever keeps it
        dense.query_vector(expand_query(query, engine.gazetteer))
    city = Filters(cities=CITY_FILTER)
    when = Filters(date_from=DATE_FILTER[0], date_to=DATE_FILTER[1])
    runs = {
        "bm25": lambda q: engine.search(q, K, "bm25"),
        "dense": lambda q: engine.search(q, K, "dense"),
        "hybrid": lambda q: engine.search(q, K, "hybrid"),
        "hybrid_city": lambda q: engine.search(q, K, "hybrid", city),
        "hybrid_date": lambda q: engine.search(q, K, "hybrid", when),
    }
    for call in runs.values():
        call(queries[0])  # warm-up
    times: dict[str, list[float]] = {name: [] for name in runs}
    for query in queries:  # each question in every mode in turn: machine noise hits all alike
        for name, call in runs.items():
            times[name] += _times(call, [query])
    for name in runs:
        out[f"{name}_p50_ms"] = round(percentile(times[name], 0.5), 2)
        out[f"{name}_p95_ms"] = round(percentile(times[name], 0.95), 2)
        log(
            f"  {name:<12} p50 {out[f'{name}_p50_ms']:8.1f} ms  p95 {out[f'{name}_p95_ms']:8.1f} ms"
        )
    out["city_filter_hits"] = len(engine.search(queries[0], K, "hybrid", city))

    started = time.perf_counter()
    ask(engine, DATED_QUESTION, K)  # a running app has answered a dated question before
    out["ask_warmup_ms"] = round((time.perf_counter() - started) * 1000, 1)
    asked = _times(lambda q: ask(engine, q, K), queries)
    out["ask_p50_ms"] = round(percentile(asked, 0.5), 2)
    out["ask_p95_ms"] = round(percentile(asked, 0.95), 2)
    out["ask_max_ms"] = round(max(asked), 2)
    log(f"  ask          p50 {out['ask_p50_ms']:8.1f} ms  p95 {out['ask_p95_ms']:8.1f} ms")
    out["rss_after_queries_mb"] = round(rss_mb(), 1)

    # ANN recall@10: the dense retriever's top 10 against exact inner products, same vectors.
    index = engine.stored.faiss_index
    out["ann_index"] = type(index).__name__
    vectors = np.asarray(engine.stored.vectors)
    found = []
    for query in queries:
        text = expand_query(query, engine.gazetteer)
        got = list(dense.scores(text, None, 10))
        sims = vectors @ dense.query_vector(text)[0]
        want = min(10, len(sims))
        tenth = np.partition(sims, len(sims) - want)[len(sims) - want]
        # a row tied with the exact 10th (a duplicate passage) counts as found
        found.append(sum(sims[row] >= tenth - 1e-5 for row in got) / want)
    out["ann_recall_at_10"] = round(sum(found) / len(found), 4)
    out["queries"] = len(queries)
    return out


def first_dated(index_dir: Path) -> dict:
    """Open the index and answer one question naming a year (a fresh process, timed by main)."""
    from answer.ask import ask
    from index.engine import SearchEngine

    engine = SearchEngine.open(index_dir, embedder=stub())
    opened = time.time()
    answer = ask(engine, DATED_QUESTION, K)
    return {"answered_at": time.time(), "opened_at": opened, "hits": len(answer.hits)}


def _new_bulletin(folder: Path, copy: int) -> Path:
    from synthetic import SAMPLES, vary

    sample = SAMPLES[3]  # a dated one with 12 passages
    path = folder / f"new_{copy}.txt"
    path.write_text(vary(sample.read_text(encoding="utf-8"), copy, seed=7), encoding="utf-8")
    return path


def add_one(index_dir: Path, workdir: Path) -> dict:
    """Add one bulletin, then another, to a copy of the index through update_index."""
    scratch = workdir / "update"
    if scratch.exists():
        shutil.rmtree(scratch)
    (scratch / "new").mkdir(parents=True)
    target = scratch / "index"
    shutil.copytree(index_dir, target)
    embedder = stub()
    out = {}
    for label, copy in (("add_first", 5000), ("add_one", 5001)):
        path = _new_bulletin(scratch / "new", copy)
        started = time.perf_counter()
        report = update_index(
            [path],
            target,
            embedder=embedder,
            cache_path=scratch / "cache.sqlite",
            save_report=False,
        )
        seconds = time.perf_counter() - started
        counts = report.counts
        if counts.get("added") != 1 or report.failed:
            raise RuntimeError(f"update_index did not just add {path.name}: {counts}")
        out[f"{label}_s"] = round(seconds, 2)
        log(f"  {label}: {seconds:.1f} s ({counts})")
    out.update(
        add_one_embed_s=round(report.embed_seconds, 2),
        add_one_write_s=round(report.index_write_seconds, 2),
        add_one_sentences_embedded=report.sentences_embedded,
        add_one_segment=report.segment,  # None: the update rewrote the whole index
        add_one_peak_rss_mb=round(peak_rss_mb(), 1),
    )
    shutil.rmtree(scratch)
    return out


# ---- putting it together ---------------------------------------------------------------------


class StepFailed(RuntimeError):
    pass


def _child(step: str, *args: str) -> dict:
    """Run one step in a fresh interpreter; its last stdout line is its JSON result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", step, *args]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise StepFailed(f"step {step} failed (exit {done.returncode}; its error is above)")
    return json.loads(done.stdout.strip().splitlines()[-1])


STEPS = ("measure", "first-dated", "add-one")


def run(
    n_chunks: int,
    workdir: Path,
    n_queries: int = 50,
    reuse: bool = False,
    isolate: bool = True,
    steps: tuple[str, ...] = STEPS,
) -> dict:
    """Every measurement, as one dict. isolate=False runs each step in this process (tests: no
    fresh process, so first_dated_s and the memory figures are this process's). steps: the
    measurements to take after the build (all by default; fewer while iterating on one)."""
    index_dir = workdir / "index"
    built = workdir / "build.json"
    queries = pick_queries(n_queries)
    result: dict = {}
    previous = json.loads(built.read_text()) if reuse and built.exists() else None
    if (
        previous
        and previous.get("chunks") == n_chunks
        and previous.get("generator") == GENERATOR
        and previous.get("embedder") == stub().id
        and previous.get("ann_over") == ann_over()
        and (index_dir / "manifest.json").exists()
    ):
        log(f"reusing the {n_chunks}-passage index in {workdir}")
        result.update(previous, reused=True)
    else:
        log(f"building a {n_chunks}-passage index in {workdir}")
        workdir.mkdir(parents=True, exist_ok=True)
        built.unlink(missing_ok=True)
        made = _child("build", str(n_chunks), str(workdir)) if isolate else build(n_chunks, workdir)
        built.write_text(json.dumps(made))
        result.update(made, reused=False)
    result["disk_mb"] = round(folder_mb(index_dir), 1)

    errors = {}

    def step(name: str, *args) -> dict:
        """A step in a fresh process (isolate) or here; a failed fresh process is recorded in
        "errors" and the other steps still run (here, the exception propagates)."""
        if not isolate:
            return CHILD_STEPS[name](*args)
        try:
            return _child(name, *map(str, args))
        except StepFailed as exc:
            log(str(exc))
            errors[name] = str(exc)
            return {}

    if "measure" in steps:
        log("opening and searching" + (" (fresh process)" if isolate else ""))
        result.update(step("measure", index_dir, json.dumps(queries)))

    if "first-dated" in steps:
        log("first dated question" + (" (fresh process)" if isolate else ""))
        started = time.time()
        done = step("first-dated", index_dir)
        if done:
            result["first_dated_s"] = round(done["answered_at"] - started, 2)
            result["first_dated_ask_s"] = round(done["answered_at"] - done["opened_at"], 2)

    if "add-one" in steps:
        log("adding one bulletin (update_index, on a copy)")
        result.update(step("add-one", index_dir, workdir))
    if errors:
        result["errors"] = errors
    result.update(
        embedder=stub().id,
        with_sentences=False,
        isolated=isolate,
        city_filter=CITY_FILTER[0],
        date_filter="..".join(DATE_FILTER),
    )
    return {**{key: result.get(key) for key in KEYS}, **result}


CHILD_STEPS = {
    "build": lambda chunks, workdir: build(int(chunks), Path(workdir)),
    "measure": lambda index_dir, queries: measure(Path(index_dir), json.loads(queries)),
    "first-dated": lambda index_dir: first_dated(Path(index_dir)),
    "add-one": lambda index_dir, workdir: add_one(Path(index_dir), Path(workdir)),
}


def child_main(step: str, args: list[str]) -> dict:
    if step not in CHILD_STEPS:
        raise SystemExit(f"unknown step {step!r}")
    return CHILD_STEPS[step](*args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=10000, help="passages in the archive")
    parser.add_argument("--workdir", type=Path, help="keep the index here (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="reuse WORKDIR's build of this size")
    parser.add_argument("--queries", type=int, default=50, help="dev questions timed per mode")
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"measurements after the build, comma-separated (default: all: {','.join(STEPS)})",
    )
    parser.add_argument(
        "--stub",
        choices=sorted(STUBS),
        default=DEFAULT_STUB,
        help="stub embedder (bench/stub_embedder.py); 'random' has no neighbours to find",
    )
    parser.add_argument(
        "--ann-over",
        type=int,
        help="passages past which the vector index is approximate (default: the index's own)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["BENCH_STUB"] = args.stub  # each step's process reads them
    if args.ann_over is not None:
        os.environ["BULLETIN_ANN_OVER"] = str(args.ann_over)
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip())
    if set(steps) - set(STEPS):
        parser.error(f"--steps: choose from {', '.join(STEPS)}")
    if args.child:
        print(json.dumps(child_main(args.child[0], args.child[1:])))
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_scale-"))
    try:
        result = run(args.chunks, workdir, args.queries, reuse=args.reuse, steps=steps)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.stdout.reconfigure(encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
