"""A small LRU map and a canonical JSON key, shared by the embedded AWS's caches."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

EXPRESSION_CACHE_SIZE = 4096


class Lru:
    """A bounded map, least recently used out first: expressions repeat, values vary."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self._data[key] = value
        if len(self._data) > self._size:
            self._data.popitem(last=False)


def frozen(value: Any) -> str:
    """A cache key for JSON-shaped request parts: equal parts, equal keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
