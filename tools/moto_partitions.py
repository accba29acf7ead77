"""Base-table queries that read only the part of the partition they return.

What moto does (with `partition_queries()` in tools/embedded_aws.py already
limiting it to the queried partition): sorts the whole partition on every
query, walks it from the start to find the ExclusiveStartKey (building two
DynamoTypes per item passed), then tests the key condition item by item. On
a 62,500-lead shard (a 1M-lead list) that measured ~0.4 s for a first page
and ~0.8 s for a page in the middle.

What this does: each queried partition keeps its range keys in a sorted list
(`sortedcontainers`, by moto's own sort value `cast_value`), built on first
query and then kept up to date by the same write hooks as the GSI maps
(tools/moto_gsi.py). A query hands moto's own `Table.query` only the window
it can return: the keys the key condition admits (a contiguous range of the
sorted keys for =, <, <=, >, >=, BETWEEN and begins_with), after the
ExclusiveStartKey in the scan direction, and — with a Limit — only Limit + 1
of them (moto stops at Limit and needs one more to say LastEvaluatedKey).
Every item moto would have returned, counted or used for LastEvaluatedKey
is in the window, in the same order, so the answer is moto's. Anything else
(no range key, binary range keys, legacy QueryFilter/KeyConditions
arguments, a range key condition moto would refuse) goes the old way.
"""

from __future__ import annotations

from typing import Any

from sortedcontainers import SortedKeyList

_SORTABLE = ("S", "N")


def _sort_value(key: Any) -> Any:
    return key.cast_value


def _sorted_keys(table: Any, hash_key: Any) -> SortedKeyList | None:
    """The partition's sorted range keys, built on first use (None: not sortable here)."""
    if table.range_key_type not in _SORTABLE:
        return None
    built: dict[Any, SortedKeyList] = table.__dict__.setdefault("_leadpipe_sorted", {})
    if table.__dict__.get("_leadpipe_sorted_items") is not table.items:
        built.clear()  # table.items replaced wholesale (a restore): start again
        table.__dict__["_leadpipe_sorted_items"] = table.items
    keys = built.get(hash_key)
    if keys is None:
        keys = SortedKeyList(table.items.get(hash_key, {}).keys(), key=_sort_value)
        built[hash_key] = keys
    return keys


def resync(table: Any, hash_key: Any, range_key: Any) -> None:
    """After a write to (hash_key, range_key): add or drop the key in its sorted partition."""
    built: dict[Any, SortedKeyList] | None = table.__dict__.get("_leadpipe_sorted")
    if not built or range_key is None or hash_key not in built:
        return
    keys = built[hash_key]
    stored = range_key in table.items.get(hash_key, {})
    listed = range_key in keys
    if stored and not listed:
        keys.add(range_key)
    elif listed and not stored:
        keys.remove(range_key)


_OPS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


def _bounds(keys: SortedKeyList, comparison: str | None,
            values: list[Any]) -> tuple[int, int] | None:
    """Index range of the keys the key condition admits; None if not a contiguous case.

    Mirrors moto's `DynamoType.compare`: the item's cast value against the
    condition values' cast values (begins_with is `str.startswith`).
    """
    count = len(keys)
    if comparison is None:
        return 0, count
    op = _OPS.get(comparison, comparison.upper())
    bounds = [v.cast_value for v in values]
    left, right = keys.bisect_key_left, keys.bisect_key_right
    if op == "EQ":
        return left(bounds[0]), right(bounds[0])
    if op == "LT":
        return 0, left(bounds[0])
    if op == "LE":
        return 0, right(bounds[0])
    if op == "GT":
        return right(bounds[0]), count
    if op == "GE":
        return left(bounds[0]), count
    if op == "BETWEEN":
        return left(bounds[0]), max(left(bounds[0]), right(bounds[1]))
    if op == "BEGINS_WITH" and isinstance(bounds[0], str):
        # Strings with the prefix sort in one run, from the prefix itself on:
        # bisect on "starts with it", which holds up to a point and not after.
        low, high = left(bounds[0]), count
        start = low
        while low < high:
            middle = (low + high) // 2
            if str(keys[middle].cast_value).startswith(bounds[0]):
                low = middle + 1
            else:
                high = middle
        return start, low
    return None


def window(table: Any, hash_key: Any, range_comparison: str | None, range_values: list[Any],
           limit: int | None, exclusive_start_key: dict[str, Any] | None,
           scan_index_forward: bool) -> list[Any] | None:
    """The items of the partition a base-table query can reach, ascending; None: use moto's."""
    keys = _sorted_keys(table, hash_key)
    if keys is None:
        return None
    try:
        found = _bounds(keys, range_comparison, range_values)
    except (TypeError, ValueError, IndexError, AttributeError):
        return None  # mixed types or a malformed condition: moto's walk says what happens
    if found is None:
        return None
    start, end = found
    if exclusive_start_key is not None:
        from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415

        raw_hash = exclusive_start_key.get(table.hash_key_attr)
        raw = exclusive_start_key.get(table.range_key_attr)
        if (not isinstance(raw, dict) or len(raw) != 1 or not isinstance(raw_hash, dict)
                or DynamoType(raw_hash) != hash_key):
            return None  # moto's own walk decides (another partition's key, say)
        after = DynamoType(raw).cast_value
        if scan_index_forward:
            start = max(start, keys.bisect_key_right(after))
        else:
            end = min(end, keys.bisect_key_left(after))
    if end <= start:
        return []
    if limit is not None:
        if scan_index_forward:
            end = min(end, start + limit + 1)
        else:
            start = max(start, end - limit - 1)
    partition = table.items.get(hash_key, {})
    items = [partition.get(k) for k in keys[start:end]]
    if any(item is None for item in items):  # out of step with the table: never guess
        table.__dict__.pop("_leadpipe_sorted", None)
        return None
    return items
