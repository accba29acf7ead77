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

A fourth, for S3: moto stores any POST upload, whatever its policy says;
`enforce_post_policy()` (tools/s3_post_policy.py) checks the signature, the
expiry, every condition and the size range first, and refuses as AWS does.

`python -m tools.embedded_aws --host 127.0.0.1 --port 4566` serves it;
`EmbeddedAws` runs it on a thread (tests).
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

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
    """Make moto's TransactWriteItems snapshot touched items, not whole tables."""
    import copy  # noqa: PLC0415

    from moto.dynamodb import models  # noqa: PLC0415
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    backend_cls = models.DynamoDBBackend
    if getattr(backend_cls, "_leadpipe_patched", False):
        return
    original = backend_cls.transact_write_items

    class _NoTableCopy:
        """Stands in for `copy` inside moto's module: tables are not copied."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for item in transact_items:
            op = next(iter(item.values()))
            name = op.get("TableName")
            if name not in self.tables:
                continue
            table = self.tables[name]
            if "Item" in op:
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            current = self.get_item(name, key)
            before.append((name, key, copy.deepcopy(current.to_json()["Attributes"])
                           if current is not None else None))
        try:
            original(self, transact_items)
        except Exception:
            for name, key, attrs in reversed(before):
                if attrs is None:
                    if self.get_item(name, key) is not None:
                        self.delete_item(name, key)
                else:
                    self.put_item(name, attrs, overwrite=True)
            raise

    models.copy = _NoTableCopy()  # type: ignore[assignment,attr-defined]
    backend_cls.transact_write_items = transact_write_items  # type: ignore[method-assign]
    backend_cls._leadpipe_patched = True  # type: ignore[attr-defined]


def partition_queries() -> None:
    """Make a base-table Query read its own partition, not the whole table."""
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    if getattr(Table, "_leadpipe_partition_queries", False):
        return
    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = sorted(self.items.get(hash_key, {}).values(), key=lambda i: i.range_key)
        # moto's query gathers candidates through all_items(); for this call
        # that is the partition (calls are serialised, so no one else sees it).
        self.all_items = lambda: partition
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]
    Table._leadpipe_partition_queries = True  # type: ignore[attr-defined]


def make_app() -> WsgiApp:
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415 (heavy import)
        DomainDispatcherApplication,
        create_backend_app,
    )

    item_level_rollback()
    partition_queries()
    enforce_post_policy()
    return SerialDynamoDB(DomainDispatcherApplication(create_backend_app))


def make_embedded_server(host: str, port: int) -> BaseWSGIServer:
    return make_server(host, port, make_app(), threaded=True)


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
