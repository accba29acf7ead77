"""HubSpot's CRM search request, evaluated over the sandbox's contacts.

`filterGroups` are ORed, the filters of a group ANDed (at most 5 groups, 6
filters each, 18 in all, as HubSpot allows); one sort; `limit` ≤ 200; `after`
is an offset into the sorted results, and no page may reach past the
10,000th result: HubSpot's search answers 400 there, whatever the total.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.sandboxes.hubspot import Contact

SEARCH_CAP = 10_000
SEARCH_MAX = 200
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
DATES = frozenset({"createdate", "lastmodifieddate"})
TEXT_SEARCHED = ("firstname", "lastname", "email", "phone", "company")

Key = tuple[int, Any]  # (0 when set, 1 when missing: missing values sort last), value


class SearchError(ValueError):
    """A search request HubSpot would refuse with 400 VALIDATION_ERROR."""


def to_ms(value: str) -> int:
    """Epoch milliseconds from epoch ms or an ISO instant (HubSpot takes either)."""
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError as error:
        raise SearchError(f"{value!r} is not a valid date: use epoch milliseconds") from error


def _raw(contact: Contact, name: str) -> str | int | None:
    if name == "hs_object_id":
        return int(contact.id)
    if name == "createdate":
        return contact.created_ms
    if name == "lastmodifieddate":
        return contact.updated_ms
    return contact.properties.get(name)


def _operand(name: str, value: Any) -> Any:
    text = str(value)
    if name == "hs_object_id":
        if not text.isdigit():
            raise SearchError(f"hs_object_id filter value must be a number; got {value!r}")
        return int(text)
    return to_ms(text) if name in DATES else text


def _compare(left: Any, right: Any) -> int:
    if isinstance(left, str) or isinstance(right, str):
        try:  # a number stored in a text property compares as a number
            left, right = float(left), float(right)
        except ValueError:
            left, right = str(left).casefold(), str(right).casefold()
    return int(left > right) - int(left < right)


def _filter(spec: Any) -> Callable[[Contact], bool]:
    if not isinstance(spec, dict) or not isinstance(spec.get("propertyName"), str):
        raise SearchError("each filter needs a propertyName and an operator")
    name, operator = spec["propertyName"], spec.get("operator")
    if operator == "HAS_PROPERTY":
        return lambda c: _raw(c, name) is not None
    if operator == "NOT_HAS_PROPERTY":
        return lambda c: _raw(c, name) is None
    if operator in ("IN", "NOT_IN"):
        wanted = [_operand(name, v) for v in spec.get("values") or []]
        inside = operator == "IN"
        return lambda c: (_raw(c, name) is not None
                          and any(_compare(_raw(c, name), w) == 0 for w in wanted)) == inside
    if "value" not in spec:
        raise SearchError(f"filter on {name} with operator {operator} needs a value")
    value = _operand(name, spec["value"])
    tests: dict[Any, Callable[[int], bool]] = {
        "EQ": lambda d: d == 0, "NEQ": lambda d: d != 0, "LT": lambda d: d < 0,
        "LTE": lambda d: d <= 0, "GT": lambda d: d > 0, "GTE": lambda d: d >= 0}
    if operator == "BETWEEN":
        high = _operand(name, spec.get("highValue"))
        return lambda c: (_raw(c, name) is not None and _compare(_raw(c, name), value) >= 0
                          and _compare(_raw(c, name), high) <= 0)
    if operator not in tests:
        raise SearchError(f"Unsupported filter operator: {operator!r}")
    test = tests[operator]
    if operator == "NEQ":
        return lambda c: _raw(c, name) is None or test(_compare(_raw(c, name), value))
    return lambda c: _raw(c, name) is not None and test(_compare(_raw(c, name), value))


def _predicate(groups: Any) -> Callable[[Contact], bool]:
    if not isinstance(groups, list):
        raise SearchError("filterGroups must be a list")
    compiled = []
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise SearchError("each filterGroup needs a list of filters")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(f"a filterGroup has at most {MAX_FILTERS_PER_GROUP} filters")
        compiled.append([_filter(f) for f in filters])
    if len(groups) > MAX_GROUPS or sum(map(len, compiled)) > MAX_FILTERS:
        raise SearchError(f"at most {MAX_GROUPS} filterGroups and {MAX_FILTERS} filters")
    if not compiled:
        return lambda c: True
    return lambda c: any(all(f(c) for f in group) for group in compiled)


def _sort_key(sorts: Any) -> tuple[Callable[[Contact], Key], bool]:
    if not sorts:
        return (lambda c: (0, int(c.id))), False
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise SearchError("sorts: HubSpot search supports one sort")
    sort = sorts[0]
    if isinstance(sort, str):  # "-createdate" is HubSpot's short form for descending
        name, descending = sort.lstrip("-"), sort.startswith("-")
    elif isinstance(sort, dict) and isinstance(sort.get("propertyName"), str):
        name, descending = sort["propertyName"], sort.get("direction") == "DESCENDING"
    else:
        raise SearchError("a sort is {propertyName, direction}")

    def key(contact: Contact) -> Key:
        raw = _raw(contact, name)
        return (1, "") if raw is None else (0, raw if isinstance(raw, int) else raw.casefold())

    return key, descending


def _text_match(query: Any) -> Callable[[Contact], bool]:
    if not query:
        return lambda c: True
    needle = str(query).casefold()
    return lambda c: any(needle in c.properties.get(n, "").casefold() for n in TEXT_SEARCHED)


def run_search(contacts: list[Contact], body: Any) -> tuple[int, list[Contact], int | None]:
    """(total, this page, the next page's `after` or None) for a search request body."""
    if not isinstance(body, dict):
        raise SearchError("the search request body must be a JSON object")
    limit, after = body.get("limit", 10), str(body.get("after") or "0")
    if not isinstance(limit, int) or not 1 <= limit <= SEARCH_MAX:
        raise SearchError(f"limit must be between 1 and {SEARCH_MAX}; got {limit!r}")
    if not after.isdigit():
        raise SearchError(f"after must be a number; got {after!r}")
    offset = int(after)
    if offset + limit > SEARCH_CAP:
        # HubSpot's wording is not documented; clients should key on the status and
        # category, and on their own offset, as the real message may differ.
        raise SearchError(f"Search results are limited to {SEARCH_CAP} results: a page cannot "
                          f"start at {offset} with limit {limit}; narrow the filters instead")
    matches, text = _predicate(body.get("filterGroups") or []), _text_match(body.get("query"))
    key, descending = _sort_key(body.get("sorts"))
    found = sorted((c for c in contacts if matches(c) and text(c)), key=key, reverse=descending)
    following = offset + limit
    return len(found), found[offset:following], following if following < len(found) else None
