"""moto's server as the embedded AWS, with DynamoDB requests serialised.

Why not plain `python -m moto.server`: it serves each request on its own thread,
and moto's DynamoDB backend is not thread-safe. TransactWriteItems deep-copies the
table first and restores that copy when the transaction is cancelled, so a
cancelled transaction on one thread wipes out writes that other threads made
meanwhile (or brings back deleted items), and concurrent queries fail with
"dictionary changed size during iteration". Real DynamoDB gives each
transaction serializable isolation; running moto's DynamoDB calls one at a time
restores that. SQS and S3 stay concurrent, so long polls block nothing.

A second fidelity fix, for scale: to roll a cancelled transaction back, moto's
TransactWriteItems deep-copies every table it touches *before each
transaction*. That makes each transaction cost O(table size) in time and
memory: a 100k-lead import reached 8.6 GB and ~7 rows/s. With DynamoDB calls
serialised, restoring just the items the transaction touched is an exact
rollback, so `item_level_rollback()` makes moto do that instead.

A third, also for scale: moto answers every Query by listing and sorting
*every item of the table* and keeping the partition's; a search walking a
list's 16 shards then cost 16 full-table sorts (seconds on a few thousand
leads). `partition_queries()` hands moto's query only the partition's items,
which is all DynamoDB reads for a base-table Query.

For scale too: a GSI query reads its own index partition from maps kept up
to date on every write (`gsi_partitions()`, tools/moto_gsi.py), and a
base-table query only the window of its sorted partition it can return
(tools/moto_partitions.py). For speed: tools/moto_speed.py stops moto from
re-parsing identical expressions, re-validating identical plain SET updates,
sizing items quadratically and listing its own package per request; see
docs/local-stack-performance.md for the profile these come from.

A fourth, for S3: moto stores any POST upload, whatever its policy says;
`enforce_post_policy()` (tools/s3_post_policy.py) checks the signature, the
expiry, every condition and the size range first, and refuses as AWS does.

`python -m tools.embedded_aws --host 127.0.0.1 --port 4566` serves it;
`EmbeddedAws` runs it on a thread (tests).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tools.moto_gsi import gsi_partitions
from tools.moto_speed import speed_patches
from tools.moto_sqs import fast_sqs_clock
from tools.s3_post_policy import enforce_post_policy

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SerialDynamoDB:
    """WSGI middleware: one DynamoDB request at a time, everything else as it comes."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with self._lock:
                # Drain the body inside the lock: the work happens while iterating.
                return [b"".join(self._app(environ, start_response))]
        return self._app(environ, start_response)


def item_level_rollback() -> None:
    """Make moto's TransactWriteItems snapshot touched items, not whole tables.

    The snapshot of an item is the stored `Item` object itself when the
    transaction puts, deletes or condition-checks it: moto's put stores a new
    object and its delete drops the old one, neither changes it, so the old
    object is the item as it was. Only an Update changes the stored object in
    place, so only it is copied (moto's `Item.__deepcopy__`, no JSON round
    trip). A cancelled transaction puts the very objects back, and re-files
    them in the GSI maps (tools/moto_gsi.py).

    Also: moto's update_item deep-copies the item it updates, only to hand
    the old image to the table's stream; with no stream on the table that
    copy is skipped (the one other deepcopy in moto's module is the table
    copy this patch removes).
    """
    import copy  # noqa: PLC0415

    from moto.dynamodb import models  # noqa: PLC0415
    from moto.dynamodb.exceptions import MockValidationException  # noqa: PLC0415
    from moto.dynamodb.models.dynamo_type import Item  # noqa: PLC0415
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    from tools.moto_gsi import refile  # noqa: PLC0415

    backend_cls = models.DynamoDBBackend
    if getattr(backend_cls, "_leadpipe_patched", False):
        return
    original = backend_cls.transact_write_items
    original_update = backend_cls.update_item
    no_stream = [False]  # set while an update on a stream-less table runs (calls are serial)

    class _NoTableCopy:
        """Stands in for `copy` inside moto's module: tables are not copied."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table) or (no_stream[0] and isinstance(value, Item)):
                return value
            return copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    def update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        table = self.tables.get(table_name)
        no_stream[0] = table is not None and table.stream_shard is None
        try:
            return original_update(self, table_name, *args, **kwargs)
        finally:
            no_stream[0] = False

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before: list[tuple[Any, Any, Any, Any]] = []
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            name = op.get("TableName")
            if name not in self.tables:
                continue
            table = self.tables[name]
            if "Item" in op:
                key = {table.hash_key_attr: op["Item"].get(table.hash_key_attr)}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"].get(table.range_key_attr)
            else:
                key = op.get("Key") or {}
            if not all(isinstance(v, dict) for v in key.values()):
                continue  # a malformed key: moto refuses the transaction before writing
            try:
                hash_value, range_value = self.get_keys_value(table, key)
            except MockValidationException:
                continue  # a key moto refuses: it cancels the transaction before writing
            current = table.get_item(hash_value, range_value)
            snapshot = copy.deepcopy(current) if op_type == "Update" else current
            before.append((table, hash_value, range_value, snapshot))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, snapshot in reversed(before):
                if snapshot is None:
                    if table.get_item(hash_value, range_value) is not None:
                        table.delete_item(hash_value, range_value)
                elif table.range_key_attr is not None:
                    table.items[hash_value][range_value] = snapshot
                else:
                    table.items[hash_value] = snapshot
                refile(table, hash_value, range_value)
            raise

    models.copy = _NoTableCopy()  # type: ignore[assignment,attr-defined]
    backend_cls.transact_write_items = transact_write_items  # type: ignore[method-assign]
    backend_cls.update_item = update_item  # type: ignore[method-assign]
    backend_cls._leadpipe_patched = True  # type: ignore[attr-defined]


def partition_queries() -> None:
    """Make a base-table Query read its own partition, not the whole table.

    moto gathers a query's candidates through `all_items()`: for this call
    that is the partition's window tools/moto_partitions.py computes (sorted
    range keys, the key condition, the ExclusiveStartKey, Limit + 1), or the
    whole partition where it declines. Calls are serialised, so no one else
    sees the override.
    """
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    from tools.moto_partitions import window  # noqa: PLC0415

    if getattr(Table, "_leadpipe_partition_queries", False):
        return
    # The sorted partitions are kept up to date by the GSI maps' write hooks.
    gsi_partitions()
    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        candidates = None
        if len(args) >= 5 and not (set(kwargs) - _QUERY_KEYWORDS):
            range_comparison, range_values, limit, start_key, forward = args[:5]
            try:
                candidates = window(self, hash_key, range_comparison, range_values, limit,
                                    start_key, forward)
            except (TypeError, ValueError):
                candidates = None  # mixed key types: moto's own walk says what happens
        if candidates is None:
            candidates = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: candidates
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]
    Table._leadpipe_partition_queries = True  # type: ignore[attr-defined]


# Table.query keywords that do not change which items the query reads (anything
# else, e.g. legacy QueryFilter arguments, leaves the window to moto).
_QUERY_KEYWORDS = {"index_name", "consistent_read", "filter_expression",
                   "hash_key_conditions", "range_key_conditions"}


def make_app() -> WsgiApp:
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415 (heavy import)
        DomainDispatcherApplication,
        create_backend_app,
    )

    speed_patches()
    fast_sqs_clock()
    gsi_partitions()
    item_level_rollback()
    partition_queries()
    enforce_post_policy()
    return SerialDynamoDB(DomainDispatcherApplication(create_backend_app))


def make_embedded_server(host: str, port: int) -> BaseWSGIServer:
    return make_server(host, port, make_app(), threaded=True, request_handler=_QuietHandler)


class _QuietHandler(WSGIRequestHandler):
    """Logs refused and failed requests only (LEADPIPE_AWS_REQUEST_LOG=1: every one).

    werkzeug logs every request line through `logging` (lock, format, write):
    ~8% of the embedded AWS's busy time in a 100k-row import, for a log of
    hundreds of thousands of 200s. The 4xx/5xx lines, the ones worth reading,
    stay.
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        try:
            failed = int(code) >= 400
        except (TypeError, ValueError):
            failed = True
        if failed or _LOG_EVERY_REQUEST:
            super().log_request(code, size)


_LOG_EVERY_REQUEST = os.environ.get("LEADPIPE_AWS_REQUEST_LOG") == "1"


class EmbeddedAws:
    """The embedded AWS on a background thread, for tests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_embedded_server(host, port)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> EmbeddedAws:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        # werkzeug's serve_forever closes the socket on its own thread as it
        # returns: until that thread ends, the port may still be held.
        self._thread.join()
        self._server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args(argv)
    server = make_embedded_server(args.host, args.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
