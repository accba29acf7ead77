"""The workspace's suppression list, and the people index that finds a person's leads.

A person on the list cannot be added to any list of the workspace: the API
answers 409 `suppressed`, a batch says `suppressed` for that lead, an import
or sync rejects the row with code `suppressed`. The check reads the hashed
keys of a group of leads with BatchGetItem (100 keys a call, strongly
consistent) and caches nothing, so a suppression binds every write that
checks after it is stored (docs/suppression.md: the one window).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain.clock import utc_now_iso
from chalicelib.domain.cursor import decode_cursor, encode_cursor
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.ids import is_id, new_id
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.people import (
    HashedPerson,
    PersonKey,
    lead_person_keys,
    parse_person,
    suppression_keys,
)
from chalicelib.domain.suppression import Suppressed, Suppression, parse_suppression
from chalicelib.services.people_ports import PeopleIndex, SuppressionStore
from chalicelib.services.ports import LeadBatchStore, Repository


def new_suppression(key: PersonKey, reason: str) -> Suppression:
    return Suppression(id=new_id("sp"), kind=key.kind, hash=key.hash, reason=reason,
                       created_at=utc_now_iso(), masked=key.masked())


class SuppressionService:
    def __init__(self, store: SuppressionStore) -> None:
        self._store = store

    def add(self, workspace: str, payload: Mapping[str, Any]) -> tuple[Suppression, bool]:
        """The entry, and whether it is new (an existing value answers with its entry)."""
        request = parse_suppression(payload)
        return self._store.add(workspace, new_suppression(request.key, request.reason))

    def suppress(self, workspace: str, keys: Sequence[PersonKey], reason: str) -> None:
        for key in keys:
            self._store.add(workspace, new_suppression(key, reason))

    def suppress_hash(self, workspace: str, key: HashedPerson, reason: str) -> None:
        """Suppress a person by the hash alone (an erasure: no masked value kept)."""
        entry = Suppression(id=new_id("sp"), kind=key.kind, hash=key.hash, reason=reason,
                            created_at=utc_now_iso())
        stored, new = self._store.add(workspace, entry)
        if not new and (stored.masked is not None or stored.reason != reason):
            # An earlier entry shows a masked value: replaced by the hash alone.
            self._store.delete(workspace, stored)
            self._store.add(workspace, entry)

    def page(self, workspace: str, limit: int,
             cursor: str | None) -> tuple[list[Suppression], str | None]:
        after = None
        if cursor:
            after = decode_cursor(cursor).get("s")
            if not isinstance(after, str) or not after.startswith("sp_"):
                raise BadRequest("cursor is not valid", code="invalid_cursor")
        items, last = self._store.page(workspace, limit, after)
        return items, (encode_cursor({"s": last}) if last else None)

    def get(self, workspace: str, suppression_id: str) -> Suppression:
        entry = self._store.get(workspace, suppression_id) \
            if is_id(suppression_id, "sp") else None
        if entry is None:
            raise NotFound("Suppression not found", details={"suppression_id": suppression_id})
        return entry

    def delete(self, workspace: str, suppression_id: str) -> None:
        self._store.delete(workspace, self.get(workspace, suppression_id))

    # --- the check ------------------------------------------------------------
    def matches(self, workspace: str, leads: Sequence[Lead]) -> list[Suppression | None]:
        """For each lead, a suppression of its person (email, phone, LinkedIn URL or
        email domain), or None: one BatchGetItem per 100 distinct keys."""
        keys = [suppression_keys(lead) for lead in leads]
        found = self._store.find(workspace, {k.hash for ks in keys for k in ks}) \
            if any(keys) else {}
        return [next((found[k.hash] for k in ks if k.hash in found), None) for ks in keys]

    def check(self, workspace: str, lead: Lead) -> None:
        """Suppressed (409 `suppressed`) when the lead's person is on the list."""
        match = self.matches(workspace, [lead])[0]
        if match is not None:
            raise Suppressed(match.id, match.reason)


class PeopleService:
    """`GET /people`: every lead of a person in the workspace, by the people index."""

    def __init__(self, index: PeopleIndex, repo: Repository, batches: LeadBatchStore) -> None:
        self._index = index
        self._repo = repo
        self._batches = batches

    def find(self, workspace: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        key = parse_person(params)
        return [{"list_id": lst.id, "list_name": lst.name, "lead_id": lead.id,
                 "status": lead.status, "last_activity_at": lead.last_activity_at}
                for lst, lead in self.leads_of(workspace, [key])]

    def leads_of(self, workspace: str,
                 keys: Sequence[PersonKey | HashedPerson]) -> list[tuple[LeadList, Lead]]:
        """The leads the index holds under any of `keys`, read strongly consistently
        and checked against the key (an index entry may lag its lead)."""
        by_list: dict[str, set[str]] = {}
        for key in keys:
            for list_id, lead_id in self._index.lead_keys(workspace, key):
                by_list.setdefault(list_id, set()).add(lead_id)
        wanted = {k.hash for k in keys}
        out: list[tuple[LeadList, Lead]] = []
        for list_id in sorted(by_list):
            lst = self._repo.get_list(workspace, list_id)
            if lst is None:  # a deleted list being purged
                continue
            found = self._batches.get_leads(lst, sorted(by_list[list_id]))
            out.extend((lst, found[i]) for i in sorted(found)
                       if wanted & {k.hash for k in lead_person_keys(found[i])})
        return out
