"""S3's POST policy, enforced in the embedded AWS as AWS enforces it.

moto stores whatever a browser-style POST upload sends: it checks neither the
signature nor the policy, so an upload aimed at another import's key, a file
over the size limit or an expired form all succeed, and tests of those cases
would test moto, not the rule. `enforce_post_policy()` makes moto's S3 (its
server and in-process `mock_aws` alike) check every POST upload first and
refuse it with AWS's status, code and message:

- no policy or signature: 403 AccessDenied (the bucket is private);
- an access key it does not know: 403 InvalidAccessKeyId; a signature that is
  not the policy's (a tampered policy, another secret): 403 SignatureDoesNotMatch;
- expired: 403 AccessDenied "Invalid according to Policy: Policy expired.";
- a condition failed (`{"key": ...}`, `eq`, `starts-with`, `bucket`): 403
  AccessDenied "Invalid according to Policy: Policy Condition failed: [...]";
- a form field no condition covers: 403 AccessDenied "... Extra input fields: ...";
- the file outside `content-length-range`: 400 EntityTooLarge / EntityTooSmall.

The embedded AWS knows one identity, its environment's AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (`make run` gives every process the same pair; moto's
`mock_aws` sets its own pair while it runs), so a signature is checked as AWS
would check the signer's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

# Form fields the policy does not have to name (AWS's list).
_UNCOVERED = {"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"}
_POLICY_FAILED = "Invalid according to Policy: "


@dataclass(frozen=True)
class Refusal:
    """S3's answer to a POST upload it refuses."""

    status: int
    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)

    def xml(self) -> str:
        extra = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in self.details.items())
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>"
                f"{extra}<RequestId>embedded</RequestId><HostId>embedded</HostId></Error>")


def local_secret(access_key_id: str) -> str | None:
    """The secret of the embedded AWS's one identity, or None for any other key."""
    if access_key_id == os.environ.get("AWS_ACCESS_KEY_ID"):
        return os.environ.get("AWS_SECRET_ACCESS_KEY")
    return None


def _signature_refusal(fields: Mapping[str, str],
                       secret_for: Callable[[str], str | None]) -> Refusal | None:
    policy = fields["policy"]
    if "x-amz-signature" in fields:  # SigV4, what boto3's s3v4 client signs
        if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
            return Refusal(400, "InvalidArgument", "Only AWS4-HMAC-SHA256 is supported")
        key_id, _, scope = fields.get("x-amz-credential", "").partition("/")
        given = fields["x-amz-signature"]

        def expected(secret: str) -> str:
            key = f"AWS4{secret}".encode()
            for part in [*scope.split("/")[:3], "aws4_request"]:  # date, region, service
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            return hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
    elif "signature" in fields:  # SigV2
        key_id, given = fields.get("awsaccesskeyid", ""), fields["signature"]

        def expected(secret: str) -> str:
            digest = hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()
            return base64.b64encode(digest).decode()
    else:
        return Refusal(403, "AccessDenied", "Access Denied")
    secret = secret_for(key_id)
    if secret is None:
        return Refusal(403, "InvalidAccessKeyId",
                       "The AWS Access Key Id you provided does not exist in our records.",
                       {"AWSAccessKeyId": key_id})
    if not hmac.compare_digest(expected(secret), given):
        return Refusal(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you "
                       "provided. Check your key and signing method.",
                       {"AWSAccessKeyId": key_id, "StringToSign": policy,
                        "SignatureProvided": given})
    return None


def _condition_refusal(condition: Any, fields: Mapping[str, str], bucket: str,
                       size: int, covered: set[str]) -> Refusal | None:
    if isinstance(condition, dict) and len(condition) == 1:
        name, value = next(iter(condition.items()))
        condition = ["eq", f"${name}", value]
    if not isinstance(condition, list) or len(condition) != 3:
        return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition.")
    op = str(condition[0]).lower()
    if op == "content-length-range":
        low, high = int(condition[1]), int(condition[2])
        if size > high:
            return Refusal(400, "EntityTooLarge",
                           "Your proposed upload exceeds the maximum allowed size",
                           {"ProposedSize": str(size), "MaxSizeAllowed": str(high)})
        if size < low:
            return Refusal(400, "EntityTooSmall",
                           "Your proposed upload is smaller than the minimum allowed size",
                           {"ProposedSize": str(size), "MinSizeAllowed": str(low)})
        return None
    name, value = str(condition[1]).lower().removeprefix("$"), str(condition[2])
    covered.add(name)
    actual = bucket if name == "bucket" else fields.get(name)
    if op == "eq":
        ok = actual == value
    elif op == "starts-with":
        ok = actual is not None and actual.startswith(value)
    else:
        return Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {op}.")
    if ok:
        return None
    # AWS quotes the condition as written, in JSON.
    return Refusal(403, "AccessDenied",
                   f"{_POLICY_FAILED}Policy Condition failed: "
                   + json.dumps([condition[0], condition[1], condition[2]]))


def check_post_upload(form: Mapping[str, str], *, bucket: str, size: int, now: datetime,
                      secret_for: Callable[[str], str | None] = local_secret) -> Refusal | None:
    """Why S3 would refuse this POST upload, or None if it would store it.

    `form` is the form's fields without the file, `size` the file's length.
    """
    fields = {name.lower(): value for name, value in form.items()}
    if "policy" not in fields:
        return Refusal(403, "AccessDenied", "Access Denied")
    refusal = _signature_refusal(fields, secret_for)
    if refusal is not None:
        return refusal
    try:
        policy = json.loads(base64.b64decode(fields["policy"], validate=True))
        expiration = datetime.fromisoformat(policy["expiration"])
        conditions = policy["conditions"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if not isinstance(conditions, list):
        return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if now >= expiration:
        return Refusal(403, "AccessDenied", f"{_POLICY_FAILED}Policy expired.")
    covered: set[str] = set()
    for condition in conditions:
        refusal = _condition_refusal(condition, fields, bucket, size, covered)
        if refusal is not None:
            return refusal
    extra = sorted(name for name in fields if name not in covered | _UNCOVERED
                   and not name.startswith("x-ignore-"))
    if extra:
        return Refusal(403, "AccessDenied",
                       f"{_POLICY_FAILED}Extra input fields: {', '.join(extra)}")
    return None


def enforce_post_policy() -> None:
    """Make moto's S3 refuse POST uploads whose policy or signature AWS would refuse."""
    from moto.s3.responses import S3Response  # noqa: PLC0415 (heavy import)

    if getattr(S3Response, "_leadpipe_post_policy", False):
        return
    original = S3Response._bucket_response_post

    def _bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        path = self._get_path(request)
        if "delete" in parse_qs(urlparse(path).query, keep_blank_values=True):
            return original(self, request, bucket_name)  # DeleteObjects, not an upload
        body = self.raw_body if self.raw_body is not None else b""
        refusal = check_post_upload(
            {name: value for name, value in self.form_data.items() if name != "file"},
            bucket=bucket_name, now=datetime.now(UTC),
            size=len(body.encode() if isinstance(body, str) else body))
        if refusal is not None:
            return refusal.status, {"Content-Type": "application/xml"}, refusal.xml()
        return original(self, request, bucket_name)

    S3Response._bucket_response_post = _bucket_response_post  # type: ignore[method-assign]
    S3Response._leadpipe_post_policy = True  # type: ignore[attr-defined]
