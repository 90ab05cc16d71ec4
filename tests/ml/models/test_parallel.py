"""Per-series fan-out: chunking, failures isolated per series, local processes and Dask."""

from __future__ import annotations

import os
import threading

import pytest

from ml import parallel
from ml.models.parallel import DaskBackend, LocalBackend, chunk_items, make_backend, map_series


def square_or_fail(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative input {x}")
    return x * x


def worker_pid(_x: int) -> int:
    return os.getpid()


PAYLOADS = {f"s{i}": i for i in range(10)} | {"bad": -1}


def test_chunk_items_covers_every_item_once_in_order():
    items = list(range(11))
    chunks = chunk_items(items, 4)
    assert len(chunks) == 4
    assert [x for chunk in chunks for x in chunk] == items
    assert max(map(len, chunks)) - min(map(len, chunks)) <= 1
    assert chunk_items(items[:2], 8) == [[0], [1]]
    assert chunk_items([], 3) == []


@pytest.mark.parametrize("n_workers", [1, 2])
def test_map_series_returns_values_and_isolates_the_failing_series(n_workers):
    result = map_series(square_or_fail, PAYLOADS, LocalBackend(n_workers), chunks_per_worker=2)
    assert result.values == {f"s{i}": i * i for i in range(10)}
    assert result.n_failed == 1
    assert result.failures["bad"].startswith("ValueError: negative input -1")


def test_local_backend_uses_separate_processes():
    pids = map_series(worker_pid, {f"s{i}": i for i in range(8)}, LocalBackend(2)).values
    assert os.getpid() not in set(pids.values())
    inline = map_series(worker_pid, {"a": 0}, LocalBackend(1)).values
    assert inline == {"a": os.getpid()}


def is_locked(lock) -> bool:
    return lock.locked()


def test_forked_workers_inherit_the_items_instead_of_unpickling_them():
    """A lock cannot be pickled: it reaches the workers only by fork inheritance."""
    locks = [threading.Lock() for _ in range(4)]
    locks[1].acquire()
    assert LocalBackend(2, start_method="fork").map(is_locked, locks) == [False, True, False, False]
    assert parallel._INHERITED == {}  # nothing kept once the map returns
    with pytest.raises(TypeError, match="pickle"):
        LocalBackend(2, start_method="spawn").map(is_locked, locks)


def test_the_inherited_work_is_released_when_a_worker_fails():
    with pytest.raises(ValueError, match="negative input"):
        LocalBackend(2).map(square_or_fail, [1, -1, 2])
    assert parallel._INHERITED == {}


def test_make_backend_picks_dask_only_with_a_scheduler_address():
    assert isinstance(make_backend(n_workers=3), LocalBackend)
    assert make_backend(n_workers=3).n_workers == 3
    assert isinstance(make_backend(scheduler_address="tcp://127.0.0.1:8786"), DaskBackend)
    with pytest.raises(ValueError):
        LocalBackend(n_workers=-1)


def test_dask_backend_on_a_local_cluster_gives_the_same_results():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        backend = DaskBackend(client)
        assert backend.n_workers == 2
        result = map_series(square_or_fail, PAYLOADS, backend)
        by_address = map_series(square_or_fail, {"x": 3}, DaskBackend(cluster.scheduler_address))
    assert result.values == {f"s{i}": i * i for i in range(10)}
    assert list(result.failures) == ["bad"]
    assert by_address.values == {"x": 9}
