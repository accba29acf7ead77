"""Least privilege, declared in one place: function name -> what it may touch, and why.

Each Lambda function gets its own role holding exactly the grants below, plus
two that every function gets without an entry here: consuming the queue its
event source reads (ReceiveMessage & co., needed by Lambda's poller, which
acts with the function's role; none for an @app.schedule function) and
writing its own log group.

Adding a handler to app.py means adding an entry here: the synth fails on a
function without one, so no function is deployed with a guessed policy.
Entries for functions not (yet) in app.py are skipped.

Why only the read/write actions, never `dynamodb:*`/`s3:*`: a bug or an
injected call in one handler then cannot delete the table, change the bucket
policy or purge a queue. DynamoDB transactions have no IAM action of their own
(there is no `dynamodb:TransactWriteItems` permission): TransactWriteItems is
authorised item by item as PutItem, UpdateItem, DeleteItem and ConditionCheckItem.

KMS (the stage's secrets key, data_stores.py): every Encrypt/Decrypt the code
makes carries an encryption context {"workspace": ..., "purpose": ...}
(adapters/kms_secrets.py). A `Secrets` grant allows its actions on that key
only for the purposes it names (a condition on kms:EncryptionContext:purpose),
so a function that may open an OAuth state cannot open a connection's
credentials with the same key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """Actions on the single table (no indexes: the ARN covers everything)."""

    actions: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Objects:
    """Object actions on keys under the given prefixes of the files bucket."""

    actions: tuple[str, ...]
    prefixes: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class ListBucket:
    """s3:ListBucket on the files bucket."""

    why: str


@dataclass(frozen=True)
class Send:
    """SendMessage (+ GetQueueUrl: the adapter looks the URL up by name) on queues."""

    queues: tuple[str, ...]  # QueueDef.logical_name values
    why: str


@dataclass(frozen=True)
class Secrets:
    """KMS actions on the secrets key, only with an encryption context of these purposes."""

    actions: tuple[str, ...]   # kms:Encrypt, kms:Decrypt
    purposes: tuple[str, ...]  # values of the context's "purpose" key
    why: str


Grant = Table | Objects | ListBucket | Send | Secrets

# The encryption-context purposes the code seals with (tests/infra check these
# are the code's own constants): a connection's credentials
# (services/connections.py SECRET_PURPOSE), an OAuth state (STATE_PURPOSE), an
# access token given with a Google Sheets import (services/sheet_rows.py TOKEN_PURPOSE).
CONNECTION = "connection"
OAUTH_STATE = "oauth_state"
IMPORT_TOKEN = "import_token"  # noqa: S105 (an encryption-context value)
# A webhook endpoint's signing secret (services/webhooks.py SECRET_PURPOSE).
WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 (an encryption-context value)
PURPOSES = (CONNECTION, OAUTH_STATE, IMPORT_TOKEN, WEBHOOK_SECRET)
KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt")

# pynamodb + the raw client in adapters/dynamo_*.py: items, queries, batches and
# transactions (whose Put/Update/Delete/ConditionCheck parts are these actions).
TABLE_READ_WRITE = (
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
# The DLQ handlers read what failed (an import, lead snapshots) and record the
# failure: no deletes, no batch writes.
TABLE_UPDATE = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem",
                "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
# The import watchdog finds active imports, then updates or fails them one by
# one, in transactions (a transaction's Delete part is DeleteItem): no BatchWriteItem.
WATCHDOG_TABLE = ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem",
                  "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem",
                  "dynamodb:ConditionCheckItem")

# Every prefix an import's files live under (services/import_erasure.object_prefixes).
IMPORT_FILES = ("uploads/", "files/", "analysis/", "chunks/", "errors/")

# Whatever changes leads, finishes an import or raises a follow-up announces
# it: one message per subscribed webhook endpoint (services/webhook_outbox.py).
_ANNOUNCES = Send(("webhooks",), "announces what it changed to the workspace's webhook "
                  "endpoints (services/webhook_outbox.py)")

_MISSING_IS_404 = ("S3 answers 403, not 404, for a missing key to a role without "
                   "ListBucket; S3Files.get_bytes/head treat only 404 as 'absent'")

GRANTS: Mapping[str, Sequence[Grant]] = {
    "api_handler": (
        _ANNOUNCES,
        Table(TABLE_READ_WRITE, "every route reads and writes lists, leads, claims, "
              "tokens, imports (services/*.py through the DynamoDB adapters)"),
        Objects(("s3:PutObject",), ("uploads/",),
                "the presigned POST is signed with this role's credentials: S3 checks "
                "PutObject on uploads/* against this role when the browser uploads"),
        Objects(("s3:GetObject", "s3:PutObject"), ("analysis/",),
                "POST /imports stores a requested mapping; GET/start read the analysis, "
                "start rewrites it with the final mapping"),
        Objects(("s3:GetObject",), ("errors/",),
                "GET /imports/{id}/errors reads the per-chunk error reports; HeadObject "
                "of the assembled report; the presigned GET of it is signed with this role"),
        Objects(("s3:PutObject", "s3:AbortMultipartUpload"), ("errors/",),
                "a report too large to answer inline is assembled into errors/<id>/"
                "report.csv (PutObject covers CreateMultipartUpload, UploadPart and "
                "CompleteMultipartUpload); a failed assembly aborts its upload"),
        Objects(("s3:DeleteObject",), IMPORT_FILES,
                "DELETE /imports/{id} erases the import's files (services/import_erasure.py)"),
        Objects(("s3:GetObject",), ("exports/",),
                "GET /exports/{id} answers a presigned GET of exports/<id>.csv, signed with "
                "this role: S3 checks GetObject against it when the link is followed"),
        ListBucket("the error report lists errors/<import>/; also: " + _MISSING_IS_404),
        Send(("jobs",), "list delete/copy and bulk actions hand the rest to the jobs queue"),
        Send(("splits",), "POST /imports/{id}/start sends the split message"),
        Send(("verify",), "a created lead or changed email, and POST .../verify, queue "
             "email verification"),
        Send(("uploads",), "a Google Sheets import starts its analysis by sending the "
             "upload event itself (services/sheet_imports.py start_analysis)"),
        Secrets(("kms:Encrypt",), (CONNECTION, OAUTH_STATE, IMPORT_TOKEN),
                "POST /connections and the OAuth callback seal credentials (a refresh "
                "token is tried before, in plaintext); GET .../authorize seals the state; "
                "a Google Sheets import seals the access token given with it"),
        Secrets(("kms:Encrypt",), (WEBHOOK_SECRET,),
                "POST /webhooks seals the endpoint's new signing secret"),
        Secrets(("kms:Decrypt",), (OAUTH_STATE,),
                "the OAuth callback opens the state; no route opens a connection's "
                "credentials or an import token"),
    ),
    "on_job": (
        _ANNOUNCES,
        Table(TABLE_READ_WRITE, "purge, copy and bulk jobs (services/jobs.py) write leads, "
              "claims and counters"),
        Send(("jobs",), "a job out of time sends its continuation back to the jobs queue"),
        Objects(("s3:DeleteObject",), IMPORT_FILES,
                "purging a deleted list erases its imports' files (services/import_erasure.py)"),
        Objects(("s3:GetObject", "s3:PutObject"), ("errors/",),
                "a person's erasure rewrites each stored error-report part without their "
                "rows (services/erasures.py)"),
        Objects(("s3:GetObject",), ("analysis/",),
                "a sync run failed by the erasure is recorded on its sync (its source settings)"),
        Objects(("s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                 "s3:AbortMultipartUpload"), ("exports/",),
                "export jobs stream each part to exports/<id>/ and assemble them into "
                "exports/<id>.csv (multipart: PutObject covers Create/UploadPart/Complete; "
                "a failed upload aborts); a part written by a second delivery is deleted"),
        ListBucket("the erasure lists each import's prefixes; also: " + _MISSING_IS_404),
        Secrets(("kms:Decrypt", "kms:Encrypt"), (CONNECTION,),
                "status write-back jobs call the CRM with the sync's connection, sealing it "
                "again after a refresh (services/status_writeback.py)"),
    ),
    "on_upload": (
        Table(TABLE_READ_WRITE, "analysis reads the import and list, updates the import; "
              "auto_start begins the import"),
        Objects(("s3:GetObject", "s3:DeleteObject"), ("uploads/",),
                "reads the upload (HeadObject is GetObject), copies it away, deletes it and "
                "any upload aimed at the wrong key"),
        Objects(("s3:GetObject", "s3:PutObject"), ("files/",),
                "the analysed copy: CopyObject writes files/<id> from an upload, PutObject "
                "the CSV a Google Sheet is pinned as; then reads its head"),
        Objects(("s3:GetObject", "s3:PutObject"), ("analysis/",),
                "reads a requested mapping, stores columns, preview and mapping"),
        ListBucket(_MISSING_IS_404),
        Send(("splits",), "auto_start: a ready import sends its split message"),
        Secrets(("kms:Decrypt",), (CONNECTION, IMPORT_TOKEN),
                "a Google Sheets import is read with its connection's credentials or "
                "with the access token sealed with the import"),
        Secrets(("kms:Encrypt",), (CONNECTION,),
                "a connection's token refreshed before (or after a 401 while) reading "
                "the sheet is sealed again"),
    ),
    "on_split": (
        _ANNOUNCES,
        Table(TABLE_READ_WRITE, "reads import and list, records chunks_total, finishes"),
        Objects(("s3:GetObject",), ("files/", "analysis/"),
                "streams the analysed file; reads the final mapping"),
        Objects(("s3:PutObject",), ("chunks/",), "writes each chunk of rows"),
        ListBucket(_MISSING_IS_404),
        Send(("chunks",), "one message per chunk"),
        Send(("verify",), "the file's email domains, sent for look-up ahead of its leads"),
        Secrets(("kms:Decrypt", "kms:Encrypt"), (CONNECTION,),
                "a sync run reads the CRM while splitting (services/crm_rows.py) with its "
                "connection's credentials, sealing them again after a refresh"),
    ),
    "on_chunk": (
        _ANNOUNCES,
        Table(TABLE_READ_WRITE, "claims and leads (BatchGetItem, TransactWriteItems, "
              "BatchWriteItem), chunk markers and import counters"),
        Objects(("s3:GetObject",), ("chunks/", "analysis/"), "reads its chunk and mapping"),
        Objects(("s3:PutObject",), ("errors/",), "writes the chunk's error report"),
        Objects(("s3:DeleteObject",), ("chunks/", "errors/"),
                "a chunk of an erased import deletes its own file and takes back its "
                "report part"),
        ListBucket(_MISSING_IS_404 + " (a missing chunk must raise, then be salvaged)"),
        Send(("verify",), "the chunk's saved leads are queued for email verification"),
    ),
    "on_chunk_dead": (
        _ANNOUNCES,
        Table(TABLE_UPDATE, "salvage: counts the chunk's rows failed, finishes the import"),
        Objects(("s3:PutObject",), ("errors/",), "reports the chunk's rows as failed"),
        Objects(("s3:GetObject",), ("analysis/",),
                "a finished sync run's source settings (services/syncs.py "
                "on_import_finished: bookmark, last run, lease)"),
    ),
    "on_split_dead": (
        _ANNOUNCES,
        Table(TABLE_UPDATE, "marks the import failed (split_failed)"),
        Objects(("s3:GetObject",), ("analysis/",),
                "a failed sync run's source settings (its sync records the failure)"),
    ),
    "on_upload_dead": (
        Table(TABLE_UPDATE, "marks the import failed (analysis_failed)"),
    ),
    "on_verify": (
        _ANNOUNCES,
        Table(TABLE_READ_WRITE, "domain verdicts and leases (BatchGetItem, UpdateItem, "
              "PutItem), lead snapshots and verdicts (TransactWriteItems), list walks (Query)"),
        Send(("verify",), "list walks send their continuation; unknown verdicts are "
             "retried with DelaySeconds"),
    ),
    "on_verify_dead": (
        _ANNOUNCES,
        Table(TABLE_UPDATE, "pending leads of a failed batch become unknown; import counts"),
    ),
    # @app.schedule (every 5 minutes): consumes no queue, so no consume grant.
    "import_watchdog": (
        _ANNOUNCES,
        Table(WATCHDOG_TABLE, "queries the registry partition of active imports, reads "
              "each import and its chunk markers, resumes or fails it (UpdateItem, "
              "TransactWriteItems); no BatchWriteItem"),
        Objects(("s3:GetObject",), ("chunks/", "analysis/", "files/"),
                "checks what a stalled import has written: chunks, mapping, analysed file"),
        Objects(("s3:PutObject",), ("errors/",),
                "reports the rows of an import it fails as unprocessed"),
        ListBucket("lists chunks/<import>/ to find the chunks whose message was lost; "
                   "also: " + _MISSING_IS_404),
        Send(("uploads",), "resumes an import stalled in analysis: re-sends its upload "
             "event"),
        Send(("splits",), "resumes an import stalled before its split: re-sends the split"),
        Send(("chunks",), "resumes a stalled import: re-sends its missing chunk messages"),
        Send(("verify",), "re-queues verification of a resumed import's saved leads"),
    ),
    # @app.schedule (every minute): consumes no queue, so no consume grant.
    "sync_dispatcher": (
        Table(TABLE_READ_WRITE, "reads the due syncs (Query on SYNCS#DUE), takes a sync's "
              "lease (conditional UpdateItem), creates its run's import, moves its due entry"),
        Objects(("s3:GetObject", "s3:PutObject"), ("analysis/",),
                "stores the run's columns, mapping and source settings, read back by begin"),
        ListBucket(_MISSING_IS_404),
        Send(("splits",), "a run starts like any import: its split message"),
    ),
    # @app.schedule (every minute): consumes no queue, so no consume grant.
    "follow_ups_due": (
        _ANNOUNCES,
        Table(TABLE_READ_WRITE, "reads the due follow-ups (Query on FOLLOWUPS#DUE#<n>), "
              "marks each due in one transaction with its activity and feed entries"),
    ),
    "on_webhook": (
        Table(TABLE_READ_WRITE, "reads the endpoint and the delivery, records the attempt "
              "(conditional PutItem), marks the endpoint failing or disabled"),
        Send(("webhooks",), "a failed attempt is retried by re-sending its message with "
             "DelaySeconds"),
        Secrets(("kms:Decrypt",), (WEBHOOK_SECRET,),
                "opens the endpoint's secret to sign the delivery"),
    ),
    "on_webhook_dead": (
        Table(TABLE_UPDATE, "a delivery whose message kept crashing is recorded failed"),
    ),
}


class MissingGrants(KeyError):
    """A function of the app has no entry in GRANTS."""


def grants_for(function_name: str) -> Sequence[Grant]:
    try:
        return GRANTS[function_name]
    except KeyError:
        raise MissingGrants(
            f"function {function_name!r} has no entry in infra/policies.py GRANTS: "
            "declare what it may touch before it can be deployed") from None
