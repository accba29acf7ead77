"""The verify queue's messages: built and parsed here, nowhere else.

TypedDicts, because the worker passes them on (a retry is the message with
fewer leads and a higher attempt). `parse_verification_message` checks a body's
shape; one that is none of these raises DropMessage (it can never succeed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict, TypeGuard

from chalicelib.domain.errors import DropMessage

# [lead_id, email, version, status, email_status, email_status_reason]: the lead as
# the requester wrote it (a retry carries only [lead_id, email]).
LeadEntry = list[Any]


class LeadsMessage(TypedDict):
    type: Literal["leads"]
    list_id: str
    shards: int
    identity: str
    leads: list[LeadEntry]
    attempt: int
    import_id: NotRequired[str]
    batch: NotRequired[str]
    # Leads added or edited through the API (not an import's): their verdicts
    # are announced as `lead.verified` to the workspace's webhooks.
    workspace: NotRequired[str]


class DomainsMessage(TypedDict):
    type: Literal["domains"]  # an import's domains, looked up ahead of its leads
    domains: list[str]


class ListMessage(TypedDict):
    type: Literal["list"]  # re-verify a list's emails, walking it from `position`
    workspace: str
    list_id: str
    older_than: str | None
    position: NotRequired[str]


VerificationMessage = LeadsMessage | DomainsMessage | ListMessage


def leads_message(list_id: str, shards: int, identity: str, entries: list[LeadEntry], *,
                  attempt: int = 0, import_id: str | None = None,
                  batch: str | None = None, workspace: str | None = None) -> LeadsMessage:
    message: LeadsMessage = {"type": "leads", "list_id": list_id, "shards": shards,
                             "identity": identity, "leads": entries, "attempt": attempt}
    if import_id is not None and batch is not None:
        message["import_id"], message["batch"] = import_id, batch
    if workspace is not None:
        message["workspace"] = workspace
    return message


def domains_message(domains: Sequence[str]) -> DomainsMessage:
    return {"type": "domains", "domains": list(domains)}


def list_message(workspace: str, list_id: str, older_than: str | None,
                 position: str | None = None) -> ListMessage:
    message: ListMessage = {"type": "list", "workspace": workspace, "list_id": list_id,
                            "older_than": older_than}
    if position is not None:
        message["position"] = position
    return message


def _is_str(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value)


def _is_count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_verification_message(body: Mapping[str, Any]) -> VerificationMessage:
    kind = body.get("type")
    if kind == "leads":
        entries = body.get("leads")
        if not (_is_str(body.get("list_id")) and _is_count(body.get("shards"))
                and body["shards"] > 0 and _is_count(body.get("attempt", 0))
                and isinstance(entries, list)
                and all(isinstance(e, list) and len(e) >= 2 and _is_str(e[0])
                        and _is_str(e[1]) for e in entries)):
            raise DropMessage("malformed leads message")
        return leads_message(body["list_id"], body["shards"],
                             str(body.get("identity") or "email"), entries,
                             attempt=body.get("attempt", 0),
                             import_id=body.get("import_id") or None,
                             batch=body.get("batch") or None,
                             workspace=body.get("workspace") or None)
    if kind == "domains":
        domains = body.get("domains")
        if not isinstance(domains, list) or not all(_is_str(d) for d in domains):
            raise DropMessage("malformed domains message")
        return domains_message(domains)
    if kind == "list":
        older_than, position = body.get("older_than"), body.get("position")
        if not (_is_str(body.get("workspace")) and _is_str(body.get("list_id"))
                and (older_than is None or isinstance(older_than, str))
                and (position is None or isinstance(position, str))):
            raise DropMessage("malformed list message")
        return list_message(body["workspace"], body["list_id"], older_than, position)
    raise DropMessage(f"unknown verification message {str(kind)[:40]!r}")
