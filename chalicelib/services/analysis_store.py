"""An import's analysis (columns, mapping, preview, sample summary), kept in S3.

An analysis can be as wide as the file (10,000 columns, 100 long custom
values in each preview row): it lives in S3, not in the 400 KB import item.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalicelib.services.ports import FileStore

_CACHE_SIZE = 16


class AnalysisStore:
    def __init__(self, files: FileStore) -> None:
        self._files = files
        self._cache: dict[str, dict[str, Any]] = {}

    @staticmethod
    def key(import_id: str) -> str:
        return f"analysis/{import_id}.json"

    def store(self, import_id: str, analysis: Mapping[str, Any]) -> None:
        self._files.put_bytes(self.key(import_id),
                              json.dumps(analysis, separators=(",", ":")).encode(),
                              "application/json")
        self._cache.pop(import_id, None)

    def load(self, import_id: str, *, final: bool = False) -> dict[str, Any]:
        """The stored analysis ({} if none); cached per worker only once final (running).

        Before the import runs, the API may still change the mapping, so a
        worker must not keep an old copy.
        """
        cached = self._cache.get(import_id)
        if cached is None:
            raw = self._files.get_bytes(self.key(import_id))
            cached = json.loads(raw) if raw else {}
            if final:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.clear()
                self._cache[import_id] = cached
        return cached
