"""GSI queries that read their own index partition, not the whole table.

What moto does: `Table.query(..., index_name=...)` walks `all_items()` —
every item of the table, sorted — and keeps those whose index hash key
equals the queried value. With 1M leads that is seconds per query, whatever
the query returns; DynamoDB reads only the index partition.

What this patch does: per table and per GSI, a map from the index's (first)
hash key value to the items carrying it, keyed by their table key. It is
kept up to date incrementally on every path that changes a stored item:

- `Table.put_item` (PutItem, BatchWriteItem puts, transaction puts, PartiQL,
  imports, our transaction rollback's restores),
- `Table.delete_item` (DeleteItem, batch deletes, transactions, rollback),
- `DynamoDBBackend.update_item`, which mutates the stored item in place
  (UpdateItem and transaction updates), so the item is re-filed afterwards.

Each hook re-files the one key it wrote after the write, in `finally`: the
map always describes what is stored, also when the write raised half-way.
A GSI's map is made on the table's first write (so it never needs a pass
over a big table) and kept from then on; an index added later (UpdateTable)
or a table replaced wholesale is rebuilt once, on the next write or query,
as the recorded schema or `table.items` object no longer match. Dropping a table
drops its maps with it (they live on the Table object).

Why the semantics hold: the query still runs moto's own code; only the
candidates it gathers through `all_items()` shrink to the partition, a
superset of the items moto keeps (it filters on the hash condition, the
range key's presence and the key condition itself, then sorts by the index
range key and the table keys). Calls are serialised (tools/embedded_aws.py),
so no write interleaves with a query or a re-filing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tools.moto_partitions import resync

IndexKey = tuple[Any, Any]  # the table key: (hash DynamoType, range DynamoType | None)


class _GsiPartitions:
    """One GSI's map: index hash value → {table key: stored item}."""

    def __init__(self, hash_attr: str, schema: list[dict[str, str]], items: Any) -> None:
        self.hash_attr = hash_attr
        self.schema = schema
        self.items_id = id(items)
        self.partitions: dict[Any, dict[IndexKey, Any]] = {}
        self.filed: dict[IndexKey, Any] = {}  # table key → the hash value it is filed under

    def refile(self, key: IndexKey, item: Any) -> None:
        value = item.attrs.get(self.hash_attr) if item is not None else None
        old = self.filed.pop(key, None)
        if old is not None:
            partition = self.partitions.get(old)
            if partition is not None:
                partition.pop(key, None)
                if not partition:
                    del self.partitions[old]
        if value is not None:
            self.partitions.setdefault(value, {})[key] = item
            self.filed[key] = value


def _stored_items(table: Any) -> Iterator[Any]:
    for hash_set in table.items.values():
        if table.range_key_attr:
            yield from hash_set.values()
        else:
            yield hash_set


def _stored(table: Any, key: IndexKey) -> Any:
    hash_value, range_value = key
    if table.range_key_attr:
        return table.items.get(hash_value, {}).get(range_value)
    return table.items.get(hash_value)


def _partitions(table: Any, index: Any) -> _GsiPartitions | None:
    """The index's up-to-date map, built on first use; None if it has no hash key."""
    hash_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    if not hash_attrs:
        return None
    built: dict[str, _GsiPartitions] = table.__dict__.setdefault("_leadpipe_gsi", {})
    current = built.get(index.name)
    if (current is None or current.schema != index.schema
            or current.items_id != id(table.items)):
        current = _GsiPartitions(hash_attrs[0], list(index.schema), table.items)
        for item in _stored_items(table):
            current.refile((item.hash_key, item.range_key if table.range_key_attr else None),
                           item)
        built[index.name] = current
    return current


def refile(table: Any, hash_value: Any, range_value: Any) -> None:
    """Re-file one table key in the table's GSI maps and sorted partitions after a write."""
    resync(table, hash_value, range_value)
    if not table.global_indexes:
        return
    key = (hash_value, range_value if table.range_key_attr else None)
    item = _stored(table, key)
    for index in table.global_indexes:
        partitions = _partitions(table, index)  # built on the table's first write
        if partitions is not None:
            partitions.refile(key, item)


def _indexed(table: Any) -> bool:
    return bool(table.global_indexes) or "_leadpipe_sorted" in table.__dict__


def gsi_partition_candidates(table: Any, index_name: str,
                             hash_key_conditions: list[tuple[str, Any]] | None) -> list[Any] | None:
    """The items a GSI query needs to look at, or None to let moto walk the table."""
    index = next((i for i in table.global_indexes or [] if i.name == index_name), None)
    if index is None or not hash_key_conditions:
        return None
    partitions = _partitions(table, index)
    if partitions is None:
        return None
    wanted = dict(hash_key_conditions).get(partitions.hash_attr)
    if wanted is None:
        return None
    return list(partitions.partitions.get(wanted, {}).values())


def gsi_partitions() -> None:
    """Install the incremental GSI maps and the partition-only GSI query."""
    from moto.dynamodb import models  # noqa: PLC0415
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    if getattr(Table, "_leadpipe_gsi_partitions", False):
        return
    put_item, delete_item, query = Table.put_item, Table.delete_item, Table.query
    update_item = models.DynamoDBBackend.update_item

    def patched_put(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return put_item(self, item_attrs, *args, **kwargs)
        finally:
            if _indexed(self) and self.hash_key_attr in item_attrs:
                range_attrs = item_attrs.get(self.range_key_attr) if self.range_key_attr else None
                refile(self, DynamoType(item_attrs[self.hash_key_attr]),
                        DynamoType(range_attrs) if range_attrs is not None else None)

    def patched_delete(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            refile(self, hash_key, range_key)

    def patched_update(self: Any, table_name: str, key: dict[str, Any],
                       *args: Any, **kwargs: Any) -> Any:
        try:
            return update_item(self, table_name, key, *args, **kwargs)
        finally:
            table = self.tables.get(table_name)
            if table is not None and _indexed(table) and table.hash_key_attr in key:
                range_attrs = key.get(table.range_key_attr) if table.range_key_attr else None
                refile(table, DynamoType(key[table.hash_key_attr]),
                        DynamoType(range_attrs) if range_attrs is not None else None)

    def patched_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        candidates = (gsi_partition_candidates(self, index_name,
                                               kwargs.get("hash_key_conditions"))
                      if index_name is not None else None)
        if candidates is None:
            return query(self, hash_key, *args, **kwargs)
        # moto's query gathers candidates through all_items() (and sorts them
        # itself); calls are serialised, so no one else sees this override.
        self.all_items = lambda: candidates
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.put_item = patched_put  # type: ignore[method-assign]
    Table.delete_item = patched_delete  # type: ignore[method-assign]
    Table.query = patched_query  # type: ignore[method-assign]
    models.DynamoDBBackend.update_item = patched_update  # type: ignore[method-assign]
    Table._leadpipe_gsi_partitions = True  # type: ignore[attr-defined]
