"""Redis backend of the online store.

A namespace is two keys: the hash ``<ns>:rows`` (field ``unique_id`` -> binary record) and the
string ``<ns>:meta`` (record layout and feature-set version). A batch read is one ``HMGET``; a
write is one ``MULTI``/``EXEC`` pipeline, so readers see the old or the new state, never a mix.
"""

from __future__ import annotations

import json
from typing import Any

from feature_store.online import DEFAULT_NAMESPACE, OnlineStore

_WRITE_CHUNK = 5_000  # fields per HSET command


class RedisOnlineStore(OnlineStore):
    """Online store in a Redis database."""

    def __init__(self, url: str, namespace: str = DEFAULT_NAMESPACE) -> None:
        super().__init__(namespace)
        import redis

        self._client = redis.Redis.from_url(url, decode_responses=False)
        self._rows_key = f"{namespace}:rows"
        self._meta_key = f"{namespace}:meta"

    def _load_meta(self) -> dict[str, Any] | None:
        raw = self._client.get(self._meta_key)
        return None if raw is None else json.loads(raw)

    def _store(self, rows: list[tuple[str, bytes]], meta: str, replace: bool) -> None:
        pipe = self._client.pipeline(transaction=True)
        if replace:
            pipe.delete(self._rows_key)
        for start in range(0, len(rows), _WRITE_CHUNK):
            pipe.hset(self._rows_key, mapping=dict(rows[start : start + _WRITE_CHUNK]))
        pipe.set(self._meta_key, meta)
        pipe.execute()

    def _fetch(self, ids: list[str]) -> list[bytes | None]:
        return self._client.hmget(self._rows_key, ids)

    def _all_ids(self) -> list[str]:
        return [key.decode() for key in self._client.hkeys(self._rows_key)]

    def _drop(self) -> None:
        self._client.delete(self._rows_key, self._meta_key)

    def close(self) -> None:
        self._client.close()
