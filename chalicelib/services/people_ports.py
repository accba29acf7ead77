"""Ports of the people index and the suppression list (adapters/dynamo_people.py)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from chalicelib.domain.people import PersonKey
from chalicelib.domain.suppression import Suppression


class PeopleIndex(Protocol):
    def lead_keys(self, workspace: str, key: PersonKey) -> list[tuple[str, str]]:
        """(list_id, lead_id) of every lead the index holds under the person's key."""
        ...


class SuppressionStore(Protocol):
    def add(self, workspace: str, entry: Suppression) -> tuple[Suppression, bool]:
        """Store `entry` unless its hash is there: (the stored entry, whether new)."""
        ...
    def get(self, workspace: str, suppression_id: str) -> Suppression | None: ...
    def page(self, workspace: str, limit: int,
             after: str | None) -> tuple[list[Suppression], str | None]: ...
    def delete(self, workspace: str, entry: Suppression) -> None: ...
    def find(self, workspace: str, hashes: Collection[str]) -> dict[str, Suppression]:
        """The entries among `hashes` (BatchGetItem, 100 keys a call, strongly consistent)."""
        ...
