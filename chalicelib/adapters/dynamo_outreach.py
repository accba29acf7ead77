"""Outreach items: event markers, follow-ups and their due queue, the workspace feed.

    event marker  EVENT#<workspace>#<sha256(event id)>  EVENT        (idempotency, a year)
    follow-up     LEAD#<list>#<shard>                   F#<lead>#<follow-up id>
    due queue     FOLLOWUPS#DUE#<n>  (n < DUE_SHARDS)   <due_at>#<follow-up id>
    feed entry    FEED#<workspace>#<YYYY-MM-DD>         <at>#<activity id>  (90 days)

An event's lead change goes through the repository's one update path
(DynamoRepository.update_lead: version condition, postings, tallies, GSI
keys) with these items added to the same transaction, so an event is
recorded exactly once with everything it changes, or not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from chalicelib.adapters.dynamo_lead_items import activity_model
from chalicelib.adapters.dynamo_low_level import LowLevelTable
from chalicelib.adapters.dynamo_models import claim_key, shard_pk
from chalicelib.adapters.dynamo_repository import DynamoRepository
from chalicelib.domain.activity import Activity
from chalicelib.domain.activity_feed import FeedEntry
from chalicelib.domain.follow_ups import PENDING, DueEntry, FollowUp
from chalicelib.domain.ids import fingerprint, shard_of
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.resources import STACK

DUE_SHARDS = 8
EVENT_MARKER_SECONDS = 366 * 86_400
FEED_SECONDS = 90 * 86_400
_LEAD_INDEX = next(i.name for i in STACK.table.indexes if i.partition_key == "ix_lead")
# Kept off the feed (the lead's timeline has them): a feed page stays small.
_FEED_DROPS = ("transcript", "extracted")
_FEED_TEXT = 500


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def event_marker_key(workspace: str, event_id: str) -> dict[str, Any]:
    return {"pk": _s(f"EVENT#{workspace}#{fingerprint(event_id)}"), "sk": _s("EVENT")}


def _due_pk(follow_up_id: str) -> str:
    return f"FOLLOWUPS#DUE#{shard_of(follow_up_id, DUE_SHARDS)}"


def _follow_up_key(lst: LeadList, lead_id: str, follow_up_id: str) -> dict[str, Any]:
    return {"pk": _s(shard_pk(lst.id, shard_of(lead_id, lst.shards))),
            "sk": _s(f"F#{lead_id}#{follow_up_id}")}


def feed_day_pk(workspace: str, day: str) -> str:
    return f"FEED#{workspace}#{day}"


def feed_summary(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k not in _FEED_DROPS}
    if "transcript" in data:
        out["has_transcript"] = True
    if isinstance(out.get("text"), str) and len(out["text"]) > _FEED_TEXT:
        out["text"] = out["text"][:_FEED_TEXT] + "…"
    return out


class DynamoOutreach(LowLevelTable):
    def __init__(self, repo: DynamoRepository) -> None:
        super().__init__()
        self._repo = repo

    # --- finding leads ----------------------------------------------------
    def list_of_lead(self, lead_id: str) -> str | None:
        """The list holding a lead, by the lead-id index (None: no such lead)."""
        response = self.client.query(
            TableName=self._table, IndexName=_LEAD_INDEX, Limit=1,
            KeyConditionExpression="ix_lead = :id",
            ExpressionAttributeValues={":id": _s(lead_id)})
        for item in response["Items"]:
            return str(item["pk"]["S"]).split("#")[1]
        return None

    def claim_holder(self, lst: LeadList, identity_value: str) -> str | None:
        pk, sk = claim_key(lst.id, fingerprint(identity_value))
        item = self.client.get_item(TableName=self._table, Key={"pk": _s(pk), "sk": _s(sk)},
                                    ConsistentRead=True).get("Item")
        return str(item["lead_id"]["S"]) if item else None

    def claim_holders(self, lst: LeadList, identity_values: Collection[str]) -> dict[str, str]:
        """The lead holding each value's claim (BatchGetItem); values unclaimed are left out."""
        by_key = {claim_key(lst.id, fingerprint(v)): v for v in set(identity_values)}
        items = self._batch_get([{"pk": _s(pk), "sk": _s(sk)} for pk, sk in by_key],
                                projection="pk, sk, lead_id")
        return {by_key[(i["pk"]["S"], i["sk"]["S"])]: str(i["lead_id"]["S"]) for i in items}

    def events_seen(self, workspace: str, event_ids: Collection[str]) -> dict[str, str]:
        """The lead each already recorded event is on (BatchGetItem of the markers)."""
        by_pk = {event_marker_key(workspace, e)["pk"]["S"]: e for e in set(event_ids)}
        items = self._batch_get([event_marker_key(workspace, e) for e in by_pk.values()],
                                projection="pk, lead_id")
        return {by_pk[i["pk"]["S"]]: str(i["lead_id"]["S"]) for i in items}

    def event_seen(self, workspace: str, event_id: str) -> bool:
        return "Item" in self.client.get_item(TableName=self._table,
                                              Key=event_marker_key(workspace, event_id),
                                              ConsistentRead=True)

    # --- writing ------------------------------------------------------------
    def record(self, lst: LeadList, before: Lead, after: Lead, activities: list[Activity], *,
               event_ids: Sequence[str] = (), new_follow_ups: Sequence[FollowUp] = (),
               cancel: FollowUp | None = None) -> Lead:
        """The lead change with its activities, feed entries, follow-up items and
        (for events) their markers, in one transaction; Conflict if the lead
        changed meanwhile, an event was recorded already, or `cancel` is no
        longer pending."""
        now = int(time.time())
        extra: list[dict[str, Any]] = []
        for event_id in event_ids:
            extra.append({"Put": {
                "TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                "Item": {**event_marker_key(lst.workspace, event_id), "event_id": _s(event_id),
                         "lead_id": _s(before.id), "list_id": _s(lst.id),
                         "expires_at": {"N": str(now + EVENT_MARKER_SECONDS)}}}})
        for follow_up in new_follow_ups:
            extra.extend(self._follow_up_puts(lst, follow_up))
        if cancel is not None:
            extra.extend(self._cancel_ops(lst, cancel))
        extra.extend({"Put": {"TableName": self._table, "Item": self._feed_item(lst, a, now)}}
                     for a in activities)
        return self._repo.update_lead(lst, before, after, activities, extra)

    def _follow_up_puts(self, lst: LeadList, f: FollowUp) -> list[dict[str, Any]]:
        item = {**_follow_up_key(lst, f.lead_id, f.id), "follow_up_id": _s(f.id),
                "lead_id": _s(f.lead_id), "list_id": _s(lst.id), "workspace": _s(lst.workspace),
                "due_at": _s(f.due_at), "status": _s(f.status), "created_at": _s(f.created_at)}
        if f.note:
            item["note"] = _s(f.note)
        if f.event_id:
            item["event_id"] = _s(f.event_id)
        due = {"pk": _s(_due_pk(f.id)), "sk": _s(f"{f.due_at}#{f.id}"),
               "workspace": _s(lst.workspace), "list_id": _s(lst.id), "lead_id": _s(f.lead_id),
               "follow_up_id": _s(f.id), "due_at": _s(f.due_at)}
        return [{"Put": {"TableName": self._table, "Item": item,
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self._table, "Item": due}}]

    def _cancel_ops(self, lst: LeadList, f: FollowUp) -> list[dict[str, Any]]:
        return [{"Update": {
                    "TableName": self._table, "Key": _follow_up_key(lst, f.lead_id, f.id),
                    "UpdateExpression": "SET #s = :cancelled",
                    "ConditionExpression": "#s IN (:open, :due)",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":cancelled": _s("cancelled"),
                                                  ":open": _s(PENDING[0]),
                                                  ":due": _s(PENDING[1])}}},
                {"Delete": {"TableName": self._table,
                            "Key": {"pk": _s(_due_pk(f.id)), "sk": _s(f"{f.due_at}#{f.id}")}}}]

    def _feed_item(self, lst: LeadList, a: Activity, now: int) -> dict[str, Any]:
        return {"pk": _s(feed_day_pk(lst.workspace, a.at[:10])), "sk": _s(f"{a.at}#{a.id}"),
                "activity_id": _s(a.id), "lead_id": _s(a.lead_id), "list_id": _s(lst.id),
                "type": _s(a.type), "at": _s(a.at),
                "data": _s(json.dumps(feed_summary(a.data), ensure_ascii=False)),
                "expires_at": {"N": str(now + FEED_SECONDS)}}

    # --- follow-ups -----------------------------------------------------------
    def follow_ups(self, lst: LeadList, lead_id: str) -> list[FollowUp]:
        """A lead's follow-ups (at most a few hundred: one query), by id."""
        out: list[FollowUp] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :f)",
            "ExpressionAttributeValues": {":pk": _s(shard_pk(lst.id, shard_of(lead_id,
                                                                               lst.shards))),
                                          ":f": _s(f"F#{lead_id}#")}}
        while True:
            response = self.client.query(**kwargs)
            out.extend(_follow_up(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return out
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def due(self, now_iso: str, limit: int = 100) -> Iterator[DueEntry]:
        """Follow-ups whose time has come, each due-queue shard oldest first."""
        for n in range(DUE_SHARDS):
            response = self.client.query(
                TableName=self._table, Limit=limit, ConsistentRead=True,
                KeyConditionExpression="pk = :pk AND sk <= :now",
                ExpressionAttributeValues={":pk": _s(f"FOLLOWUPS#DUE#{n}"),
                                           ":now": _s(now_iso + "#\uffff")})
            for item in response["Items"]:
                yield DueEntry(item["workspace"]["S"], item["list_id"]["S"],
                               item["lead_id"]["S"], item["follow_up_id"]["S"],
                               item["due_at"]["S"], {"pk": item["pk"], "sk": item["sk"]})

    def mark_due(self, lst: LeadList, entry: DueEntry, activity: Activity) -> bool:
        """Open → due, once: the follow-up, its timeline and feed entries, and the
        queue entry's removal in one transaction. False (and the queue entry
        dropped) if it is not open any more or its lead is gone."""
        lead_key = {"pk": _s(shard_pk(lst.id, shard_of(entry.lead_id, lst.shards))),
                    "sk": _s(f"L#{entry.lead_id}")}
        items = [
            {"Update": {"TableName": self._table,
                        "Key": _follow_up_key(lst, entry.lead_id, entry.follow_up_id),
                        "UpdateExpression": "SET #s = :due, due_raised_at = :at",
                        "ConditionExpression": "#s = :open",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":due": _s("due"), ":open": _s("open"),
                                                      ":at": _s(activity.at)}}},
            {"ConditionCheck": {"TableName": self._table, "Key": lead_key,
                                "ConditionExpression": "attribute_exists(pk)"}},
            {"Delete": {"TableName": self._table, "Key": dict(entry.key)}},
            {"Put": {"TableName": self._table,
                     "Item": activity_model(lst, activity).serialize()}},
            {"Put": {"TableName": self._table,
                     "Item": self._feed_item(lst, activity, int(time.time()))}},
        ]
        failed = self._transact(items)
        if failed is None:
            return True
        if failed:
            self.drop_due(entry)
            return False
        raise RuntimeError("marking a follow-up due was cancelled by a conflict")

    def drop_due(self, entry: DueEntry) -> None:
        self.client.delete_item(TableName=self._table, Key=dict(entry.key))

    # --- the workspace feed ---------------------------------------------------
    def feed_day(self, workspace: str, day: str, *, since: str, before_sk: str | None,
                 limit: int, types: Sequence[str], list_id: str | None,
                 ) -> tuple[list[FeedEntry], str | None, int]:
        """One day's entries newest first from `before_sk` (exclusive), at or after
        `since`: (entries, the last key read if the day has more, items read)."""
        pk = feed_day_pk(workspace, day)
        kwargs: dict[str, Any] = {
            "TableName": self._table, "ScanIndexForward": False, "Limit": limit,
            "KeyConditionExpression": "pk = :pk AND sk >= :since",
            "ExpressionAttributeValues": {":pk": _s(pk), ":since": _s(since)}}
        filters: list[str] = []
        if types:
            names = {f":t{i}": _s(t) for i, t in enumerate(types)}
            filters.append(f"#type IN ({', '.join(names)})")
            kwargs["ExpressionAttributeNames"] = {"#type": "type"}
            kwargs["ExpressionAttributeValues"].update(names)
        if list_id:
            filters.append("list_id = :list")
            kwargs["ExpressionAttributeValues"][":list"] = _s(list_id)
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
        if before_sk is not None:
            kwargs["ExclusiveStartKey"] = {"pk": _s(pk), "sk": _s(before_sk)}
        response = self.client.query(**kwargs)
        entries = [FeedEntry(Activity(item["activity_id"]["S"], item["lead_id"]["S"],
                                      item["type"]["S"], item["at"]["S"],
                                      json.loads(item["data"]["S"])), item["list_id"]["S"])
                   for item in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return entries, (last["sk"]["S"] if last else None), int(response.get("ScannedCount", 0))


def _follow_up(item: dict[str, Any]) -> FollowUp:
    def opt(name: str) -> str | None:
        return str(item[name]["S"]) if name in item else None
    return FollowUp(id=item["follow_up_id"]["S"], lead_id=item["lead_id"]["S"],
                    list_id=item["list_id"]["S"], due_at=item["due_at"]["S"],
                    created_at=item["created_at"]["S"], status=item["status"]["S"],
                    note=opt("note"), event_id=opt("event_id"))
