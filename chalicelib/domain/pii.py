"""Masking personal data (emails, phone numbers) out of text bound for logs.

Logs leave our control (CloudWatch, support tickets, log shippers): a lead's
email or phone must never appear in one. What is kept: an email's domain (it
is what DNS and deliverability problems are about) and a phone's last two
digits (enough to tell two numbers apart in an incident, not to call anyone).
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^\s@\"'<>(),;:\[\]\\]+@([^\s@\"'<>(),;:\[\]\\]+\.[^\s@\"'<>(),;:\[\]\\]+)")
# International (+...) numbers, North American shapes with separators, and
# long runs of digits; not dates (2026-11-22), times or ids, whose shapes differ.
_PHONE = re.compile(
    r"\+\d[\d\s().-]{6,}\d"
    r"|\(\d{3}\)\s?\d{3}[\s.-]?\d{4}"
    r"|\b\d{3}[.-]\d{3}[.-]\d{4}\b"
    r"|\b\d{10,15}\b")


def _mask_phone(match: re.Match[str]) -> str:
    return "***" + re.sub(r"\D", "", match.group(0))[-2:]


def mask_pii(text: str) -> str:
    """`ada@acme.io` → `***@acme.io`; `+14155550134` → `***34`."""
    return _PHONE.sub(_mask_phone, _EMAIL.sub(r"***@\1", text))
