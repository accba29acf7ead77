"""Speed patches for moto's DynamoDB (5.2.5) that leave what clients see unchanged.

Profiling the embedded AWS during the 100k-row bench import
(docs/local-stack-performance.md) showed its time going to work moto repeats
rather than to storing items. Each patch here and in tools/moto_expressions.py
(parsing and validating expressions) removes one such repetition; its
docstring says what moto does, why that is slow, and why the result is the
same. tests/integration/test_embedded_aws.py holds a test per patch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from tools.moto_expressions import (
    cached_expressions,
    cached_set_validation,
    cached_traverser_maps,
)

ITEM_SIZE_LIMIT = 405000  # moto's LimitedSizeDict limit (DynamoDB's 400 KB, measured)


def _size_function() -> Callable[[Any], int]:
    """moto's DynamoType.size(), exactly, without its per-value method calls."""
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415

    def size(value: Any) -> int:
        kind = value.type
        raw = value.value
        if kind == "N":
            return len(str(raw))
        if kind in ("SS", "NS", "BS"):  # moto: each member re-wrapped and sized
            return sum(size(DynamoType({kind[0]: member})) for member in raw)
        if kind == "L":
            return sum(size(member) for member in raw)
        if kind == "M":
            return sum(len(k.encode("utf-8")) + size(DynamoType(v)) for k, v in raw.items())
        if isinstance(raw, bool):
            return 1
        return len(raw if isinstance(raw, bytes) else raw.encode("utf-8"))

    return size


def linear_item_sizes() -> None:
    """Check an item's 400 KB limit in linear time, not quadratic.

    What moto does: `Item.attrs` is a `LimitedSizeDict` whose `__setitem__`
    sums the size of every key and value already in the item before each
    insert, and `Item.__init__` inserts attributes one by one: building a
    25-attribute lead sizes ~1,250 values; each SET of an UpdateExpression
    sizes the whole item again, through a chain of `is_*()` method calls per
    value.

    What the patch does: `Item.__init__` sizes each value once and checks the
    same running sums moto's inserts would (the same point of failure, the
    same ItemSizeTooLarge); `__setitem__` sums with a function that mirrors
    `DynamoType.size()` branch for branch (numbers by their text, sets member
    by member, maps with their keys, booleans/NULL 1, strings and binary by
    UTF-8 bytes) and the same non-DynamoType fallback, `bytesize(str(x))`.
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge  # noqa: PLC0415
    from moto.dynamodb.models import dynamo_type  # noqa: PLC0415

    limited = dynamo_type.LimitedSizeDict
    if getattr(limited, "_leadpipe_linear", False):
        return
    DynamoType = dynamo_type.DynamoType
    size = _size_function()

    def sized(value: Any) -> int:
        return size(value) if type(value) is DynamoType else len(str(value).encode("utf-8"))

    def total(entries: Iterable[tuple[str, Any]]) -> int:
        return sum(len(k.encode("utf-8")) + sized(v) for k, v in entries)

    def setitem(self: Any, key: str, value: Any) -> None:
        if total(self.items()) + len(key.encode("utf-8")) + sized(value) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    def item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = limited()
        running = 0
        for key, raw in attrs.items():
            value = DynamoType(raw)
            added = len(key.encode("utf-8")) + size(value)
            if running + added > ITEM_SIZE_LIMIT:
                raise ItemSizeTooLarge
            dict.__setitem__(self.attrs, key, value)
            running += added

    limited.__setitem__ = setitem  # type: ignore[method-assign,assignment]
    dynamo_type.Item.__init__ = item_init  # type: ignore[method-assign]
    limited._leadpipe_linear = True  # type: ignore[attr-defined]


def static_module_list() -> None:
    """List moto's service packages once, not on every request.

    What moto does: its server's dispatcher asks `list_of_moto_modules()`
    for every request (is the Host header a service name?), which lists
    moto's package directory and stats each entry: ~15% of a bare
    BatchWriteItem's time. The directory does not change while the server
    runs, so the answer is computed once; membership tests see the same names.
    """
    from moto import backends  # noqa: PLC0415

    if getattr(backends, "_leadpipe_static", False):
        return
    names = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: names
    backends._leadpipe_static = True  # type: ignore[attr-defined]


def speed_patches() -> None:
    cached_expressions()
    cached_set_validation()
    linear_item_sizes()
    static_module_list()
    cached_traverser_maps()
    plain_json_requests()


_DATA_PLANE = frozenset({"PutItem", "GetItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                         "BatchGetItem", "TransactWriteItems", "TransactGetItems", "Query",
                         "Scan"})
_BINARY = re.compile(rb'"BS?"\s*:')


def plain_json_requests() -> None:
    """Read a DynamoDB item request's JSON body as JSON, not through the model walker.

    What moto does: every request body is parsed by walking botocore's
    service model shape by shape (`moto.core.parse`), so a 100-item
    transaction costs a Python call per attribute of every item: ~18% of the
    embedded AWS's time in a verified import, after the other patches.

    Why the result is the same: for the item operations (Put/Get/Update/
    Delete/BatchWrite/BatchGet/TransactWrite/TransactGet/Query/Scan) the
    model walker's output equals `json.loads` of the body except for binary
    attribute values (`B`, `BS`: base64 text decoded to bytes) — every other
    member is a JSON string, number, boolean, list or object already. So a
    body with no `"B":`/`"BS":` key (an unescaped quote cannot occur inside a
    JSON string, so that text is a key) is read with `json.loads`; any other
    body, and every other operation, goes through moto's walker as before.
    A test compares both readings on requests of every one of these kinds.
    """
    from moto.dynamodb.responses import DynamoHandler  # noqa: PLC0415

    if getattr(DynamoHandler, "_leadpipe_plain_json", False):
        return
    walk = DynamoHandler.parse_parameters

    def parse_parameters(self: Any, request: Any) -> None:
        body = request.data
        if self._get_action() in _DATA_PLANE and body and not _BINARY.search(body):
            self.params = json.loads(body)
            return
        walk(self, request)

    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]
    DynamoHandler._leadpipe_plain_json = True  # type: ignore[attr-defined]
