"""E-mail address normalisation (syntax only, never DNS).

The whole address is lowercased, local part included. RFC 5321 lets the local
part be case-sensitive, but no mainstream provider treats it so, and leads are
deduplicated on the e-mail: "Jane@x.com" and "jane@x.com" must collide.

Internationalised domains come back in Unicode form as email-validator gives
them ("jane@xn--bcher-kva.de" -> "jane@bücher.de"), so either spelling
deduplicates to the same value.

No result cache: addresses in an import are almost all distinct, so a cache
would only cost memory (validation is ~40 µs for an ASCII address).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from chalicelib.domain.errors import InvalidValue

MAX_EMAIL_LENGTH = 254


def _invalid(message: str) -> InvalidValue:
    return InvalidValue(message, code="invalid_email")


def normalise_email(raw: str) -> str:
    """Return the normalised, lowercased address or raise InvalidValue(code="invalid_email")."""
    text = raw.strip()
    if not text:
        raise _invalid("E-mail address is empty")
    # Checked before validation so oversized cells are rejected without parsing them.
    if len(text) > MAX_EMAIL_LENGTH:
        raise _invalid(f"E-mail address is longer than {MAX_EMAIL_LENGTH} characters")
    try:
        # Lowercased before validating so the string that was validated is the
        # one returned; lowercasing afterwards could produce unvalidated text.
        validated = validate_email(text.lower(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise _invalid(str(exc)) from None
    result = validated.normalized.lower()
    if len(result) > MAX_EMAIL_LENGTH:
        raise _invalid(f"E-mail address is longer than {MAX_EMAIL_LENGTH} characters")
    return result


def email_domain(email: str) -> str:
    """Domain of an already normalised address (text after the last '@')."""
    _, at, domain = email.rpartition("@")
    if not at or not domain:
        raise _invalid("E-mail address has no domain")
    return domain
