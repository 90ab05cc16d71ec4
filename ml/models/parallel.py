"""Fan per-series work out over local processes or a Dask cluster, behind one small interface.

Per-series families (ARIMA, Prophet) fit thousands of small independent models. They hand
:func:`map_series` a module-level function and one payload per series; the payloads are cut into
``n_workers * chunks_per_worker`` chunks so that inter-process round trips are paid per chunk,
not per series, while chunks stay small enough that no worker idles long at the end (the cost
of a series varies a lot with its sparsity, and a 2-worker run loses half its tail chunk).

* :class:`LocalBackend` (default): a process pool over all cores; ``n_workers=1`` runs inline,
  without processes. With ``fork`` (where available) the workers inherit the imported libraries
  *and the items*: only an index crosses the pipe, so fitted models handed to a forecast stage
  are never pickled into the workers (only the results come back pickled).
* :class:`DaskBackend`: the same chunks on a ``distributed`` cluster, chosen by giving a
  scheduler address (or a ``Client``) -- the code of the families does not change.

A series whose function raises never takes its chunk or its family down: the exception is
caught inside the worker and reported in :attr:`SeriesResults.failures` (series id -> reason),
so the caller can fall back (the model families use the moving average) and list the ids.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

MAX_REASON_CHARS = 300
DEFAULT_CHUNKS_PER_WORKER = 16

# Work handed to forked workers by inheritance: map() registers (fn, items) under a fresh key
# before the pool forks, the workers look them up, and map() removes them when it returns.
_INHERITED: dict[int, tuple[Callable[[Any], Any], list]] = {}
_INHERITED_KEYS = itertools.count()


@dataclass
class SeriesResults:
    """What a per-series map returns: values for the series that worked, reasons for the rest."""

    values: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def n_failed(self) -> int:
        return len(self.failures)

    def merge(self, other: SeriesResults) -> None:
        self.values.update(other.values)
        self.failures.update(other.failures)


class Backend(Protocol):
    """Anything that maps a function over a list of items and returns results in order."""

    @property
    def n_workers(self) -> int: ...

    def map(self, fn: Callable[[Any], Any], items: list) -> list: ...


class LocalBackend:
    """Local process pool; ``n_workers=None`` uses all cores, ``1`` runs inline."""

    def __init__(self, n_workers: int | None = None, start_method: str | None = None):
        self._n_workers = int(n_workers or os.cpu_count() or 1)
        if self._n_workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {n_workers}")
        methods = multiprocessing.get_all_start_methods()
        self.start_method = start_method or ("fork" if "fork" in methods else "spawn")

    @property
    def n_workers(self) -> int:
        return self._n_workers

    def map(self, fn: Callable[[Any], Any], items: list) -> list:
        if self._n_workers == 1 or len(items) <= 1:
            return [fn(item) for item in items]
        context = multiprocessing.get_context(self.start_method)
        workers = min(self._n_workers, len(items))
        key = next(_INHERITED_KEYS) if self.start_method == "fork" else None
        if key is not None:  # forked workers look the items up: only indices are pickled
            _INHERITED[key] = (fn, items)
            fn, items = partial(_call_inherited, key), range(len(items))
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                return list(pool.map(fn, items))
        finally:
            _INHERITED.pop(key, None)


def _call_inherited(key: int, index: int) -> Any:
    """In a forked worker: apply the registered function to the registered item ``index``."""
    fn, items = _INHERITED[key]
    return fn(items[index])


class DaskBackend:
    """A ``distributed`` cluster, reached by scheduler address or an existing ``Client``.

    With an address, each call opens a client and closes it afterwards, so nothing lingers
    between fits (and a model holding a backend stays picklable).
    """

    def __init__(self, address_or_client: Any):
        self.target = address_or_client

    @contextmanager
    def _session(self) -> Iterator[Any]:
        from distributed import Client

        if isinstance(self.target, Client):
            yield self.target
            return
        with Client(self.target, set_as_default=False) as client:
            yield client

    @property
    def n_workers(self) -> int:
        with self._session() as client:
            workers = client.scheduler_info().get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))

    def map(self, fn: Callable[[Any], Any], items: list) -> list:
        with self._session() as client:
            return client.gather(client.map(fn, items, pure=False))


def make_backend(n_workers: int | None = None, scheduler_address: str | None = None) -> Backend:
    """Dask when a scheduler address is configured, local processes otherwise."""
    if scheduler_address:
        return DaskBackend(scheduler_address)
    return LocalBackend(n_workers)


def chunk_items(items: list, n_chunks: int) -> list[list]:
    """Split ``items`` into at most ``n_chunks`` contiguous, near-equal, non-empty chunks."""
    if not items:
        return []
    bounds = np.linspace(0, len(items), min(n_chunks, len(items)) + 1).round().astype(int)
    return [items[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def run_chunk(fn: Callable[[Any], Any], chunk: list[tuple[str, Any]]) -> SeriesResults:
    """Apply ``fn`` to each ``(series id, payload)``; an exception fails that series only."""
    result = SeriesResults()
    for uid, payload in chunk:
        try:
            result.values[uid] = fn(payload)
        except Exception as exc:  # noqa: BLE001 - one bad series must not stop the family
            reason = f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]
            result.failures[uid] = reason
    return result


class _ChunkRunner:
    """Picklable ``chunk -> SeriesResults`` closure over ``fn``."""

    def __init__(self, fn: Callable[[Any], Any]):
        self.fn = fn

    def __call__(self, chunk: list[tuple[str, Any]]) -> SeriesResults:
        return run_chunk(self.fn, chunk)


def map_series(
    fn: Callable[[Any], Any],
    payloads: Mapping[str, Any] | Iterable[tuple[str, Any]],
    backend: Backend | None = None,
    chunks_per_worker: int = DEFAULT_CHUNKS_PER_WORKER,
) -> SeriesResults:
    """Run ``fn(payload)`` for every series on ``backend``, in chunks; collect failures.

    ``fn`` must be picklable (a module-level function or a ``functools.partial`` of one).
    """
    items = list(payloads.items() if isinstance(payloads, Mapping) else payloads)
    backend = backend or LocalBackend()
    chunks = chunk_items(items, backend.n_workers * max(1, chunks_per_worker))
    results = SeriesResults()
    for part in backend.map(_ChunkRunner(fn), chunks):
        results.merge(part)
    if results.failures:
        shown = sorted(results.failures)[:5]
        logger.warning("%d of %d series failed (first: %s)", results.n_failed, len(items), shown)
    return results
