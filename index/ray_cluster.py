"""The Ray an ingest runs on: one started on this machine for the run (--ray), or an existing
cluster (--ray auto, --ray HOST:PORT), connected before the index is touched.

Imported only when --ray is given (index/build.py imports it inside update_index).
"""

from __future__ import annotations

import logging
import socket
import time
from contextlib import contextmanager
from typing import Iterator

from index.ray_options import LOCAL, ClusterSize, RayOptions, host_port
from ingest.errors import BulletinError, UsageError

CONNECT_TIMEOUT_S = 5.0


class ClusterError(BulletinError):
    """The Ray cluster cannot be reached or used (exit status 2, the index untouched)."""


def _unreachable(address: str, why: str) -> ClusterError:
    return ClusterError(
        f"无法连接 Ray 集群 {address}（{why}），索引未改动；请在该机器上运行 `ray start --head`"
        f"，或检查地址和端口 / cannot reach the Ray cluster at {address} ({why}); the index was "
        "not changed. Start one there with `ray start --head`, or check the address and port"
    )


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """A HOST:PORT that does not answer fails here at once: ray.init would retry for minutes."""
    target = host_port(address)
    if target is None:
        return
    try:
        socket.create_connection(target, timeout=timeout).close()
    except OSError as exc:
        raise _unreachable(address, exc.strerror or type(exc).__name__) from None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UsageError(
            "--ray 需要安装 Ray / --ray needs Ray: pip install 'bulletin-assistant[ray]' "
            "(or pip install 'ray[data]>=2.60,<2.64')"
        ) from None
    return ray


def cluster_size(ray) -> ClusterSize:
    resources = ray.cluster_resources()
    nodes = [node for node in ray.nodes() if node.get("Alive")]
    return ClusterSize(
        nodes=len(nodes), cpus=float(resources.get("CPU", 0)), gpus=float(resources.get("GPU", 0))
    )


@contextmanager
def ray_cluster(options: RayOptions) -> Iterator[tuple[ClusterSize, float]]:
    """Connect (or start a local Ray), yield (cluster size, seconds it took), disconnect (a
    local Ray is stopped). A Ray the caller already started (a benchmark) is used and left
    running."""
    ray = _import_ray()
    started = time.perf_counter()
    if ray.is_initialized():
        yield cluster_size(ray), 0.0
        return
    check_reachable(options.address)
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if options.address == LOCAL:
            ray.init(
                object_store_memory=options.object_store_mb * 2**20,
                include_dashboard=False,
                _temp_dir=options.temp_dir,
                **quiet,
            )
        else:
            ray.init(address=options.address, **quiet)
    except ConnectionError as exc:
        # a cluster that answers but refuses us: most often Ray's token authentication
        why = str(exc).splitlines()[0] + (
            "; 若集群启用了令牌认证：RAY_AUTH_MODE=token 并复制头节点的 ~/.ray/auth_token / if "
            "it uses token authentication: RAY_AUTH_MODE=token and the head's ~/.ray/auth_token "
            "on this machine (docs/cluster.md)"
            if options.address != LOCAL
            else ""
        )
        raise _unreachable(options.address, why) from None
    try:
        _quiet_ray_data()
        yield cluster_size(ray), time.perf_counter() - started
    finally:
        ray.shutdown()


def _quiet_ray_data() -> None:
    """Ray Data's own progress bars and per-dataset log lines would bury the ingest's progress
    lines (stderr) and must not reach stdout (--json-report prints the report there)."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # it warns that the bars we turned off are off
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
