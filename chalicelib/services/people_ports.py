"""Ports of the people index and the suppression list (adapters/dynamo_people.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from chalicelib.domain.erasure import Erasure
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.people import HashedPerson, PersonKey
from chalicelib.domain.suppression import Suppression


class PeopleIndex(Protocol):
    def lead_keys(self, workspace: str, key: PersonKey | HashedPerson) -> list[tuple[str, str]]:
        """(list_id, lead_id) of every lead the index holds under the person's key."""
        ...
    def index_leads(self, lst: LeadList, leads: Sequence[Lead]) -> int:
        """Index leads stored before the people index (unchanged since read); how many."""
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


class ErasureStore(Protocol):
    def save(self, erasure: Erasure) -> None: ...
    def get(self, workspace: str, erasure_id: str) -> Erasure | None: ...
    def erase_lead_items(self, lst: LeadList, lead_id: str) -> int:
        """Delete a lead's timeline and follow-ups with their feed and due entries."""
        ...
