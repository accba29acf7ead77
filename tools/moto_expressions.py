"""Expression work moto (5.2.5) repeats on every DynamoDB call, done once.

Part of the embedded AWS's speed patches (tools/moto_speed.py installs them);
docs/local-stack-performance.md has the profile they come from. Each patch's
docstring says what moto does, why it is slow and why the answer is the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tools.moto_lru import EXPRESSION_CACHE_SIZE, Lru, frozen


def cached_expressions() -> None:
    """Parse each distinct ConditionExpression / UpdateExpression once, not per call.

    What moto does: every PutItem, UpdateItem, DeleteItem and every item of a
    TransactWriteItems tokenises and parses its ConditionExpression again —
    three times for a transaction item (the request handler validates it, the
    transaction checks it, the put/update checks it again) — and its
    UpdateExpression twice. A 100-lead claim transaction parses
    `attribute_not_exists(pk)` 300 times.

    Why it is safe: a condition's parse result is a tree of `Op`/`Func`
    objects with the expression's names and values substituted in, evaluated
    read-only against an item (`.expr(item)`); it is a function of the
    expression text, its ExpressionAttributeNames and its
    ExpressionAttributeValues, which together form the cache key — a call
    with other values is another key, parsed afresh. The placeholders the
    parser reports as used (`expr_attr_names_found`/`_values_found`, checked
    by the handler) are cached beside it and copied into each parser. An
    UpdateExpression's AST is a function of its text alone; moto's validator
    deep-copies the AST before resolving values and item attributes into it,
    and the handler only reads it, so one parsed AST serves every call.
    Parse errors are not cached: an invalid expression raises every time.
    """
    from moto.dynamodb import comparisons, responses  # noqa: PLC0415
    from moto.dynamodb import models as backend_module  # noqa: PLC0415
    from moto.dynamodb.models import table as table_module  # noqa: PLC0415
    from moto.dynamodb.parsing import expressions  # noqa: PLC0415

    if getattr(comparisons, "_leadpipe_cached", False):
        return
    conditions = Lru(EXPRESSION_CACHE_SIZE)
    updates = Lru(EXPRESSION_CACHE_SIZE)

    class CachedConditionParser(comparisons.ConditionExpressionParser):
        def parse(self) -> Any:
            if not self.condition_expression:
                return super().parse()
            key = (self.condition_expression, frozen(self.expression_attribute_names),
                   frozen(self.expression_attribute_values))
            hit = conditions.get(key)
            if hit is None:
                op = super().parse()
                conditions.put(key, (op, list(self.expr_attr_names_found),
                                     list(self.expr_attr_values_found)))
                return op
            op, names_found, values_found = hit
            self.expr_attr_names_found.extend(names_found)
            self.expr_attr_values_found.extend(values_found)
            return op

    def create_parser(expr: str | None, names: dict[str, str] | None,
                      values: dict[str, dict[str, str]] | None) -> Any:
        return CachedConditionParser(expr, names, values)

    def get_filter_expression(expr: str | None, names: dict[str, str] | None,
                              values: dict[str, dict[str, str]] | None) -> Any:
        return create_parser(expr, names, values).parse()

    parser_cls = expressions.UpdateExpressionParser  # type: ignore[attr-defined]
    make = parser_cls.make.__func__  # type: ignore[attr-defined]

    def cached_make(cls: type, expression_str: str) -> Any:
        ast = updates.get(expression_str)
        if ast is None:
            ast = make(cls, expression_str)
            updates.put(expression_str, ast)
        return ast

    for module in (comparisons, responses, backend_module, table_module):
        if hasattr(module, "create_condition_expression_parser"):
            module.create_condition_expression_parser = create_parser  # type: ignore[attr-defined]
        if hasattr(module, "get_filter_expression"):
            module.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]
    parser_cls.make = classmethod(cached_make)  # type: ignore[method-assign,assignment]
    comparisons._leadpipe_cached = True  # type: ignore[attr-defined]


def cached_traverser_maps() -> None:
    """Build each AST processor's node-type map once per processor, not per node.

    What moto does: an UpdateExpression is validated by ten processors, each a
    `DepthFirstTraverser` walking the whole AST; at every node it calls
    `nodes_to_be_processed()` (documented "cached", but it rebuilds the
    processor's `_processing_map()` dict of bound methods and a tuple of its
    keys) and, for a match, `process()`, which builds the map again. A
    5-attribute verdict update makes ~400 such rebuilds.

    Why it is safe: every `_processing_map()` in moto returns a literal dict
    of node classes to this processor's own methods — the same for the
    processor's whole life — so it is built on first use and kept on the
    instance (processors are created per validation); `process()` then runs
    exactly as moto's: the first class in the map's order the node is an
    instance of picks the method.
    """
    from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]  # noqa: PLC0415
        DepthFirstTraverser,
    )

    if getattr(DepthFirstTraverser, "_leadpipe_cached", False):
        return

    def processing_map(self: Any) -> dict[type, Callable[[Any], Any]]:
        cached: dict[type, Callable[[Any], Any]] | None = self.__dict__.get("_leadpipe_map")
        if cached is None:
            cached = self._processing_map()
            self.__dict__["_leadpipe_map"] = cached
            self.__dict__["_leadpipe_types"] = tuple(cached)
        return cached

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        processing_map(self)
        types: tuple[type, ...] = self.__dict__["_leadpipe_types"]
        return types

    def process(self: Any, node: Any) -> Any:
        for class_key, processor in processing_map(self).items():
            if isinstance(node, class_key):
                return processor(node)
        return None

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]
    DepthFirstTraverser.process = process  # type: ignore[method-assign]
    DepthFirstTraverser._leadpipe_cached = True  # type: ignore[attr-defined]


_NAME = r"(?:[A-Za-z_][A-Za-z0-9_]*|#[A-Za-z0-9_]+)"
_VALUE = r":[A-Za-z0-9_]+"
_SET_CLAUSE = rf"SET\s+{_NAME}\s*=\s*{_VALUE}(?:\s*,\s*{_NAME}\s*=\s*{_VALUE})*"
_ADD_CLAUSE = rf"ADD\s+{_NAME}\s+{_VALUE}(?:\s*,\s*{_NAME}\s+{_VALUE})*"
_CLAUSE = rf"(?:{_SET_CLAUSE}|{_ADD_CLAUSE})"
_PLAIN = re.compile(rf"\s*{_CLAUSE}(?:\s+{_CLAUSE})*\s*", re.IGNORECASE)


def _ast_copier() -> Callable[[Any, list[Any]], Any]:
    """A deep copy of a validated SET AST with new values in its value nodes.

    `copy(template, values)` rebuilds every node as `copy.deepcopy` would
    (attributes copied, `parent` pointing at the new parent, `children` copied
    one by one; plain strings and numbers shared, being immutable), except that
    the i-th `DDBTypedValue` met depth first gets `values[i]` as its one child.
    """
    import copy  # noqa: PLC0415

    from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]  # noqa: PLC0415
        DDBTypedValue,
        Node,
    )

    atomic = (str, int, float, bool, type(None))

    def copy_ast(root: Any, values: list[Any]) -> Any:
        fresh = iter(values)

        def copy_value(value: Any, parent: Any) -> Any:
            if isinstance(value, atomic):
                return value
            if isinstance(value, Node):
                return copy_node(value, parent)
            if type(value) is list:
                return [copy_value(v, parent) for v in value]
            return copy.deepcopy(value)

        def copy_node(node: Any, parent: Any) -> Any:
            new = object.__new__(type(node))
            for name, value in node.__dict__.items():
                if name == "parent":
                    new.__dict__[name] = parent
                elif name == "children" and type(node) is DDBTypedValue:
                    new.__dict__[name] = [next(fresh)]
                elif name == "children":
                    new.__dict__[name] = (None if value is None
                                          else [copy_value(child, new) for child in value])
                else:
                    new.__dict__[name] = copy_value(value, new)
            return new

        return copy_node(root, root.parent)

    return copy_ast


def _typed_values_in_order(node: Any, found: list[Any]) -> list[Any]:
    from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]  # noqa: PLC0415
        DDBTypedValue,
        Node,
    )

    if type(node) is DDBTypedValue:
        found.append(node.children[0])
    elif isinstance(node, Node) and node.children:
        for child in node.children:
            _typed_values_in_order(child, found)
    return found


_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")


def cached_set_validation() -> None:
    """Validate a plain `SET a = :x, #b = :y ADD n :z` once per shape, not per call.

    What moto does: before executing an UpdateExpression, its validator deep-
    copies the AST and runs ten processors over it (action counts, overlapping
    paths, key attributes, values substituted, paths resolved against the
    item, functions, arithmetic, type and empty-key checks). For the
    verification's verdict update (5 to 7 SETs) that was ~2.5 ms an item — the
    largest single cost of a verified import.

    Which calls are cached: only expressions that are nothing but SET clauses
    of top-level attribute names (or #placeholders) to :placeholders and ADD
    clauses of top-level names and :placeholders (counters, tallies) — no
    nested path, function, arithmetic, REMOVE or DELETE. For those the
    validation does not depend on the item (its only item look-up is the
    left-hand path's "could it be created?", always yes for a top-level
    name), and depends on the values only through each one's presence, type
    (checked against key and index attributes, for SET) and emptiness (an
    empty key string is refused): the validated AST is the parsed one with each
    :placeholder replaced by `DDBTypedValue(DynamoType(value))`, in text order.

    So the cache key is (expression, names, each used value's type and
    emptiness, the table's key attributes, attribute definitions and index
    keys), and a hit rebuilds the AST from the first validation's result with
    this call's values, freshly made DynamoTypes (moto's executor stores them
    into the item, so no two items share one). A result is cached only after
    checking that its value nodes are this call's values in text order.
    Validation errors are not cached: they are raised every time.
    """
    from moto.dynamodb import models as backend_module  # noqa: PLC0415
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415
    from moto.dynamodb.parsing import expressions  # noqa: PLC0415

    copy_ast = _ast_copier()
    validator_cls = backend_module.UpdateExpressionValidator  # type: ignore[attr-defined]
    if getattr(validator_cls, "_leadpipe_cached", False):
        return
    templates = Lru(EXPRESSION_CACHE_SIZE)
    parsed_by_id: dict[int, tuple[Any, str, list[str]]] = {}
    make = expressions.UpdateExpressionParser.make  # type: ignore[attr-defined]

    def remembering_make(expression_str: str) -> Any:
        ast = make(expression_str)
        if _PLAIN.fullmatch(expression_str):
            if len(parsed_by_id) > EXPRESSION_CACHE_SIZE:
                parsed_by_id.clear()
            parsed_by_id[id(ast)] = (ast, expression_str, _PLACEHOLDER.findall(expression_str))
        return ast

    def shape(values: dict[str, Any] | None, used: list[str]) -> str | None:
        kinds = []
        for name in used:
            value = (values or {}).get(name)
            if not isinstance(value, dict) or len(value) != 1:
                return None  # missing or malformed: moto's validator says what happens
            kind, raw = next(iter(value.items()))
            kinds.append((kind, not raw))
        return frozen(kinds)

    class CachedSetValidator(validator_cls):  # type: ignore[misc,valid-type]
        def __init__(self, expression: Any, expression_attribute_names: Any,
                     expression_attribute_values: Any, item: Any, table: Any) -> None:
            known = parsed_by_id.get(id(expression))
            self._leadpipe_key: tuple[str, ...] | None = None
            self._leadpipe_hit = None
            self._leadpipe_values: list[Any] = []
            if known is not None and known[0] is expression:
                kinds = shape(expression_attribute_values, known[2])
                if kinds is not None:
                    self._leadpipe_values = [DynamoType(expression_attribute_values[name])
                                             for name in known[2]]
                    self._leadpipe_key = (
                        known[1], frozen(expression_attribute_names), kinds,
                        frozen(table.table_key_attrs), frozen(table.attr),
                        frozen(table.attribute_keys))
                    self._leadpipe_hit = templates.get(self._leadpipe_key)
                    if self._leadpipe_hit is not None:
                        return
            super().__init__(expression, expression_attribute_names,
                             expression_attribute_values, item, table)

        def validate(self) -> Any:
            if self._leadpipe_hit is not None:
                return copy_ast(self._leadpipe_hit, self._leadpipe_values)
            result = super().validate()
            if (self._leadpipe_key is not None
                    and _typed_values_in_order(result, []) == self._leadpipe_values):
                templates.put(self._leadpipe_key,
                              copy_ast(result, [DynamoType(v) for v in self._leadpipe_values]))
            return result

    class RememberingParser:
        """Stands in for UpdateExpressionParser in moto's backend module."""

        make = staticmethod(remembering_make)

    backend_module.UpdateExpressionValidator = CachedSetValidator  # type: ignore[attr-defined]
    backend_module.UpdateExpressionParser = RememberingParser  # type: ignore[attr-defined]
    CachedSetValidator._leadpipe_cached = True
