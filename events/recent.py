"""A bounded map of what this process last wrote, the least recently written entry forgotten first."""
from __future__ import annotations

from typing import Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


class Recent(Generic[Key, Value]):
    """At most `limit` entries; `put` makes an entry the most recent, and past the limit the oldest goes."""

    def __init__(self, limit: int):
        self._entries: dict[Key, Value] = {}
        self._limit = limit

    def get(self, key: Key) -> Value | None:
        return self._entries.get(key)

    def put(self, key: Key, value: Value) -> None:
        self._entries.pop(key, None)
        self._entries[key] = value  # most recent last: the first key is the one to forget
        if len(self._entries) > self._limit:
            self._entries.pop(next(iter(self._entries)), None)

    def forget(self, key: Key) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
