"""Salesforce records for the sandbox: fields and their types, ids, rendering, validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                 "Closed - Not Converted")
PREFIXES = {"Lead": "00Q", "Contact": "003", "Account": "001"}
_COMMON = {"Id": "id", "FirstName": "string", "LastName": "string", "Name": "string",
           "Email": "string", "Phone": "string", "MobilePhone": "string", "Title": "string",
           "LeadSource": "string", "IsDeleted": "boolean", "CreatedDate": "datetime",
           "LastModifiedDate": "datetime", "SystemModstamp": "datetime"}
SCHEMAS: dict[str, dict[str, str]] = {
    "Lead": {**_COMMON, "Company": "string", "City": "string", "State": "string",
             "Country": "string", "Status": "picklist", "IsConverted": "boolean"},
    "Contact": {**_COMMON, "MailingCity": "string", "MailingState": "string",
                "MailingCountry": "string", "AccountId": "id", "Account.Name": "string"},
}
# Set by Salesforce itself (or by lead conversion), never by an update.
READ_ONLY = frozenset({"Id", "Name", "IsDeleted", "IsConverted", "CreatedDate",
                       "LastModifiedDate", "SystemModstamp", "Account.Name"})
PICKLISTS = {("Lead", "Status"): LEAD_STATUSES}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # in ASCII order
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _checksum(id15: str) -> str:
    """Salesforce's 3-character suffix: which letters of each 5-character chunk are upper case."""
    return "".join(_SUFFIX[sum(1 << i for i, c in enumerate(id15[start:start + 5])
                               if c.isupper())] for start in (0, 5, 10))


def make_id(prefix: str, serial: int) -> str:
    """An 18-character id; a later serial sorts after an earlier one (base 62 in ASCII order)."""
    digits = ""
    while serial:
        serial, digit = divmod(serial, 62)
        digits = _BASE62[digit] + digits
    id15 = prefix + "Dn000" + digits.rjust(7, "0")
    return id15 + _checksum(id15)


def normalise_id(record_id: str) -> str:
    """The 18-character form of a 15- or 18-character id (anything else unchanged)."""
    if len(record_id) in (15, 18) and record_id.isalnum():
        return record_id[:15] + _checksum(record_id[:15])
    return record_id


def sf_datetime(ms: int) -> str:
    """2026-01-05T09:00:00.000+0000, Salesforce's way of writing an instant."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def canonical(sobject: str, name: str) -> str | None:
    """The field's own spelling: Salesforce matches field names without case."""
    lowered = name.lower()
    return next((f for f in SCHEMAS[sobject] if f.lower() == lowered), None)


def save_problems(sobject: str, fields: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(errorCode, message, fields) for every reason Salesforce would refuse this update."""
    problems = []
    for name, value in fields.items():
        field = canonical(sobject, name)
        if field is None:
            problems.append(("INVALID_FIELD", f"No such column '{name}' on sobject of type "
                             f"{sobject}", [name]))
        elif field in READ_ONLY:
            problems.append(("INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields:"
                             f" {field}. Please check the security settings of this field and "
                             "verify that it is read/write for your profile or permission set.",
                             [field]))
        elif (sobject, field) in PICKLISTS and value not in PICKLISTS[(sobject, field)]:
            problems.append(("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                             f"{field}: bad value for restricted picklist field: {value}", [field]))
        elif field == "LastName" and value in (None, ""):
            problems.append(("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]",
                             ["LastName"]))
    return problems


@dataclass
class SfRecord:
    sobject: str
    fields: dict[str, Any]  # canonical names; datetimes as epoch ms

    def value(self, field: str, accounts: dict[str, str]) -> Any:
        if field == "Name":
            names = (self.fields.get("FirstName"), self.fields.get("LastName"))
            return " ".join(n for n in names if n) or None
        if field == "Account.Name":
            return accounts.get(self.fields.get("AccountId") or "")
        return self.fields.get(field)

    def compare(self, field: str, left: Any, right: Any) -> int:
        kind = SCHEMAS[self.sobject][field]
        if kind == "id":  # 15 or 18 characters, case-sensitive
            left, right = str(left)[:15], str(right)[:15]
        elif kind in ("string", "picklist"):  # SOQL compares text without case
            left, right = str(left).casefold(), str(right).casefold()
        return int(left > right) - int(left < right)

    def sort_key(self, field: str, accounts: dict[str, str]) -> tuple[int, Any]:
        value = self.value(field, accounts)  # nulls first, as ORDER BY ... ASC puts them
        if value is None:
            return (0, "")
        kind = SCHEMAS[self.sobject][field]
        return (1, value.casefold() if kind in ("string", "picklist") else value)

    def save(self, changes: dict[str, Any], stamp: int) -> None:
        for name, value in changes.items():
            self.fields[canonical(self.sobject, name) or name] = value
        self.fields["LastModifiedDate"] = self.fields["SystemModstamp"] = stamp

    def render(self, fields: tuple[str, ...], version: str,
               accounts: dict[str, str]) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects"
        body: dict[str, Any] = {"attributes": {"type": self.sobject,
                                               "url": f"{base}/{self.sobject}/{self.fields['Id']}"}}
        for field in fields:
            value = self.value(field, accounts)
            if field.startswith("Account."):
                account_id = self.fields.get("AccountId")
                if account_id is None:
                    body["Account"] = None  # no parent: the relationship itself is null
                    continue
                parent = body.setdefault("Account", {"attributes": {
                    "type": "Account", "url": f"{base}/Account/{account_id}"}})
                parent[field.split(".", 1)[1]] = value
            elif SCHEMAS[self.sobject][field] == "datetime":
                body[field] = sf_datetime(value)
            else:
                body[field] = value
        return body
