"""Ports: the small interfaces services need from the outside world."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.activity import Activity
from chalicelib.domain.activity_feed import FeedEntry
from chalicelib.domain.connections import Connection, Credentials, Provider
from chalicelib.domain.cursor import LeadPosition
from chalicelib.domain.custom_index import FilterableField
from chalicelib.domain.deliverability import DomainVerdict
from chalicelib.domain.follow_ups import DueEntry, FollowUp
from chalicelib.domain.import_job import ImportCounts, ImportJob
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_index import ShardTally
from chalicelib.domain.lead_list import LeadList
from chalicelib.domain.lead_query import Driver
from chalicelib.domain.row_reader import Row
from chalicelib.domain.tokens import TokenRecord
from chalicelib.domain.webhook_messages import WebhookEvent
from chalicelib.domain.webhooks import AttemptResult, Delivery, Endpoint, Prefetched


class JobQueue(Protocol):
    """Hands long work (list purge, copy, bulk by filter) to a background worker."""

    def send(self, job: dict[str, Any], delay_seconds: int = ...) -> None: ...


class MetricsSink(Protocol):
    """Business counts (rows imported, verdicts), flushed by the handler."""

    def add(self, name: str, value: float) -> None: ...


class VerificationRequests(Protocol):
    """Queues leads whose email was added or changed for background verification."""

    def request(self, lst: LeadList, leads: Sequence[Lead], *, import_id: str | None = None,
                batch: str | None = None) -> None: ...
    def prefetch_domains(self, domains: Sequence[str]) -> None: ...
    def known_verdicts(self, domains: Collection[str]) -> dict[str, DomainVerdict]:
        """Domains whose verdict is known and fresh now (no look-up, no claim)."""
        ...


class TokenStore(Protocol):
    """Workspace API tokens: found by hash in one read, listed per workspace."""

    def add(self, record: TokenRecord) -> bool:
        """Store a new token; False (nothing written) if its hash is stored already."""
        ...
    def by_hash(self, token_hash: str) -> TokenRecord | None: ...
    def for_workspace(self, workspace: str) -> list[TokenRecord]:
        """The workspace's tokens that are not revoked."""
        ...
    def adopt(self, record: TokenRecord) -> bool:
        """Give a record written before tokens had ids its id, name and hint (once)."""
        ...
    def touch(self, token_hash: str, at: str) -> None: ...
    def revoke(self, record: TokenRecord, at: str) -> bool:
        """Mark revoked and drop from the workspace's list; False if it already was."""
        ...


class RateCounter(Protocol):
    """Counts a workspace's requests in fixed windows (one write a request)."""

    def hit(self, workspace: str, window_start: int, expires_at: int) -> int:
        """Count one request in the window starting at `window_start`; the window's total."""
        ...


class Repository(Protocol):
    """Storage of lists, leads and activity (DynamoDB in production)."""

    def create_list(self, lst: LeadList) -> None: ...
    def save_list(self, lst: LeadList) -> None: ...
    def get_list(self, workspace: str, list_id: str) -> LeadList | None: ...
    def query_lists(self, workspace: str, limit: int,
                    after_sk: str | None) -> tuple[list[LeadList], str | None]: ...
    def delete_list_record(self, lst: LeadList) -> None: ...
    def lead_counts(self, lists: Iterable[LeadList]) -> dict[str, int]: ...

    def insert_lead(self, lst: LeadList, lead: Lead, activity: Activity) -> None: ...
    def get_lead(self, lst: LeadList, lead_id: str) -> Lead | None: ...
    def update_lead(self, lst: LeadList, before: Lead, after: Lead,
                    activities: list[Activity]) -> Lead: ...
    def delete_lead(self, lst: LeadList, lead: Lead) -> bool: ...
    def walk_leads(self, lst: LeadList, start: LeadPosition | None = None,
                   page_size: int = 200) -> Iterator[tuple[Lead, LeadPosition]]: ...

    def add_activity(self, lst: LeadList, activity: Activity) -> None: ...
    def query_activity(self, lst: LeadList, lead_id: str, limit: int,
                       after_sk: str | None) -> tuple[list[Activity], str | None]: ...

    def purge_shard_page(self, list_id: str, identity: str, shard: int,
                         fields: Sequence[FilterableField] = ...,
                         page_size: int = 100) -> int: ...
    def purge_postings_page(self, pk: str, page_size: int = 100) -> int: ...


class QueueSender(Protocol):
    """Sends one message body to one queue (SQS), optionally delayed."""

    def send(self, job: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class StoredObject:
    """One object as a listing gives it: no read of its content."""

    key: str
    size: int
    etag: str


class FileStore(Protocol):
    """Objects of the files bucket (S3): uploads, analysed copies, chunks, reports."""

    def presigned_post(self, key: str, max_bytes: int, expires: int) -> dict[str, Any]: ...
    def head(self, key: str) -> tuple[int, str] | None: ...
    def read_head(self, key: str, length: int, etag: str | None = ...) -> bytes: ...
    def open_stream(self, key: str, etag: str | None = ...) -> Any: ...
    def download(self, key: str, path: str, etag: str | None = ...) -> None: ...
    def put_bytes(self, key: str, data: bytes, content_type: str = ...) -> None: ...
    def get_bytes(self, key: str) -> bytes | None: ...
    def keys(self, prefix: str) -> Iterator[str]: ...
    def delete(self, key: str) -> None: ...
    def copy(self, source: str, target: str, etag: str) -> None: ...
    def listing(self, prefix: str) -> Iterator[StoredObject]: ...
    def metadata(self, key: str) -> dict[str, str] | None:
        """The object's user metadata, or None when it does not exist."""
        ...
    def put_stream(self, key: str, chunks: Iterable[bytes], *, content_type: str,
                   metadata: Mapping[str, str]) -> None:
        """One object from many pieces, never held whole in memory (S3 multipart)."""
        ...
    def presigned_get(self, key: str, expires: int, *, filename: str,
                      content_type: str) -> str:
        """A URL downloading `key` as an attachment named `filename`, for `expires` s."""
        ...


@dataclass(frozen=True)
class SaveOutcome:
    """What saving one new lead came to: saved, or a duplicate of `lead_id`."""

    status: str  # "saved" | "duplicate"
    lead_id: str
    new: bool  # this call (or an earlier delivery of it) created the lead


@dataclass(frozen=True)
class LeadUpdate:
    """One existing lead rewritten by an import row, if still at `before.version`."""

    before: Lead
    after: Lead
    activity: Activity


class ImportStore(Protocol):
    """Import records, their chunks, and the lead writes of import chunks."""

    def create(self, job: ImportJob) -> None: ...
    def get(self, import_id: str) -> ImportJob | None: ...
    def delete(self, import_id: str, list_id: str) -> None: ...
    def update(self, import_id: str, *, expect_status: Iterable[str] | None = None,
               **fields: Any) -> bool: ...
    def list_ids(self, list_id: str, limit: int,
                 after: str | None) -> tuple[list[str], str | None]: ...
    def active_ids(self) -> list[str]: ...
    def forget_active(self, import_id: str) -> None: ...
    def chunk_done(self, import_id: str, number: int) -> bool: ...
    def done_chunks(self, import_id: str) -> set[int]: ...
    def save_leads(self, lst: LeadList, leads: Sequence[Lead]) -> list[SaveOutcome]: ...
    def get_leads(self, lst: LeadList, lead_ids: Sequence[str]) -> dict[str, Lead]: ...
    def update_leads(self, lst: LeadList, updates: Sequence[LeadUpdate]) -> list[bool]: ...
    def pin_verdicts(self, import_id: str, number: int,
                     verdicts: Sequence[DomainVerdict]) -> list[DomainVerdict]:
        """The domain verdicts a chunk saves its leads with, fixed by its first delivery."""
        ...
    def finish_chunk(self, job: ImportJob, lst: LeadList, number: int, counts: ImportCounts,
                     tally: ShardTally, no_email: int = ...,
                     verdicts: Mapping[str, int] | None = ...) -> bool: ...


class RowSource(Protocol):
    """Where an import's rows come from: a header row, then data rows.

    An uploaded file today; a Google Sheet, a CRM page or a JSON document are
    other implementations of the same two steps, and feed the same pipeline.
    """

    def prepare(self, job: ImportJob) -> dict[str, Any]:
        """Check the source and pin the version analysed; what later reads need."""
        ...

    def open_rows(self, job: ImportJob, info: Mapping[str, Any], *,
                  sample: bool) -> AbstractContextManager[Iterator[Row]]:
        """All rows, the header first; `sample` may stop after the first ones."""
        ...


class LeadIndexReader(Protocol):
    """A list's indexes (adapters/dynamo_lead_queries.py)."""

    def index_page(self, lst: LeadList, driver: Driver, shard: int, after_sk: str | None,
                   limit: int) -> tuple[list[str], bool]: ...
    def get_leads(self, lst: LeadList, lead_ids: Sequence[str]) -> dict[str, Lead]: ...
    def tallies(self, lst: LeadList) -> tuple[int, Counter[str]]: ...
    def index_existing(self, lst: LeadList, leads: Sequence[Lead],
                       before: Sequence[FilterableField]) -> list[str]: ...


class LeadBatchStore(Protocol):
    """Many leads a request: batched inserts and reads, and batches' recorded outcomes."""

    def insert_leads(self, lst: LeadList,
                     leads: Sequence[tuple[Lead, Activity]]) -> list[SaveOutcome]: ...
    def get_leads(self, lst: LeadList, lead_ids: Sequence[str]) -> dict[str, Lead]: ...
    def update_leads(self, lst: LeadList, updates: Sequence[LeadUpdate]) -> list[bool]: ...
    def start_batch(self, batch_id: str, workspace: str, list_id: str, *, parts: int,
                    total: int) -> None: ...
    def save_batch_part(self, batch_id: str, part: int,
                        results: Sequence[dict[str, Any]]) -> None: ...
    def get_batch(self, batch_id: str
                  ) -> tuple[dict[str, Any], list[list[dict[str, Any]]]] | None: ...


@dataclass(frozen=True)
class SealedConnection:
    """A connection as stored: its credentials only as a KMS ciphertext."""

    connection: Connection
    secret: str
    version: int


class ConnectionStore(Protocol):
    def put(self, sealed: SealedConnection) -> None: ...
    def get(self, workspace: str, connection_id: str) -> SealedConnection | None: ...
    def list(self, workspace: str) -> list[SealedConnection]: ...
    def delete(self, workspace: str, connection_id: str) -> None: ...
    def replace(self, sealed: SealedConnection, expected_version: int) -> bool: ...


class SecretBox(Protocol):
    """Encrypts secrets bound to a workspace and a purpose (KMS in production)."""

    def seal(self, workspace: str, purpose: str, secret: Mapping[str, Any]) -> str: ...
    def open(self, workspace: str, purpose: str, sealed: str) -> dict[str, Any]: ...


class OAuthClient(Protocol):
    """A provider's token endpoint (authorization code and refresh grants)."""

    def exchange_code(self, provider: Provider, code: str, redirect_uri: str) -> Credentials: ...
    def refresh(self, provider: Provider, credentials: Credentials) -> Credentials: ...


# --- outreach: events, follow-ups, the activity feed -----------------------------
class Outbox(Protocol):
    """Where leadpipe announces what happened, for whoever listens outside.

    `emit(workspace, event_type, payload)` is called after the change it
    announces is stored. The webhooks part implements it (a delivery per
    subscribed endpoint, queued, signed, retried). An emit must not raise for
    a listener's failure and must not block the caller.
    """

    def emit(self, workspace: str, event_type: str, payload: Mapping[str, Any]) -> None: ...


class OutreachStore(Protocol):
    """Event markers, follow-ups and the feed, written with the lead's own change
    (adapters/dynamo_outreach.py)."""

    def list_of_lead(self, lead_id: str) -> str | None: ...
    def claim_holder(self, lst: LeadList, identity_value: str) -> str | None: ...
    def claim_holders(self, lst: LeadList, identity_values: Collection[str]) -> dict[str, str]:
        ...
    def event_seen(self, workspace: str, event_id: str) -> bool: ...
    def events_seen(self, workspace: str, event_ids: Collection[str]) -> dict[str, str]:
        """Event id → the lead it was recorded on, for the ids recorded already."""
        ...
    def record(self, lst: LeadList, before: Lead, after: Lead, activities: list[Activity], *,
               event_ids: Sequence[str] = ..., new_follow_ups: Sequence[FollowUp] = ...,
               cancel: FollowUp | None = ...) -> Lead:
        """Raises Conflict when the lead changed, the event is recorded already,
        or `cancel` is no longer pending."""
        ...
    def follow_ups(self, lst: LeadList, lead_id: str) -> list[FollowUp]: ...
    def due(self, now_iso: str, limit: int = ...) -> Iterator[DueEntry]: ...
    def mark_due(self, lst: LeadList, entry: DueEntry, activity: Activity) -> bool: ...
    def drop_due(self, entry: DueEntry) -> None: ...
    def feed_day(self, workspace: str, day: str, *, since: str, before_sk: str | None,
                 limit: int, types: Sequence[str], list_id: str | None,
                 ) -> tuple[list[FeedEntry], str | None, int]: ...


# --- webhooks out (docs/webhooks.md) ----------------------------------------------
class WebhookStore(Protocol):
    """Endpoints (secret sealed) and their deliveries (adapters/dynamo_webhooks.py)."""

    def add_endpoint(self, endpoint: Endpoint, sealed_secret: str) -> None: ...
    def endpoint(self, workspace: str, endpoint_id: str) -> tuple[Endpoint, str] | None:
        """The endpoint and its sealed secret."""
        ...
    def endpoints(self, workspace: str) -> list[Endpoint]: ...
    def save_endpoint(self, endpoint: Endpoint, *, previous_version: int) -> bool: ...
    def delete_endpoint(self, workspace: str, endpoint_id: str) -> None: ...
    def note_failure(self, workspace: str, endpoint_id: str, now: float) -> float | None:
        """Set failing_since to now unless set; returns its value (None: endpoint gone)."""
        ...
    def note_success(self, workspace: str, endpoint_id: str) -> None: ...
    def disable(self, workspace: str, endpoint_id: str, reason: str, now: str) -> None: ...
    def delivery(self, workspace: str, endpoint_id: str,
                 delivery_id: str) -> tuple[Delivery, WebhookEvent] | None: ...
    def record_attempt(self, delivery: Delivery, event: WebhookEvent) -> bool:
        """Write the delivery if its stored attempts are `delivery.attempts - 1`
        (or it is new and this is attempt 1); False: another worker recorded it."""
        ...
    def reopen(self, delivery: Delivery) -> bool:
        """Back to pending for a redelivery, if its attempts are still `delivery.attempts`."""
        ...
    def deliveries(self, workspace: str, endpoint_id: str, limit: int,
                   after: str | None) -> tuple[list[Delivery], str | None]: ...
    def delivery_events(self, workspace: str, endpoint_id: str, limit: int,
                        after: str | None) -> tuple[list[tuple[str, WebhookEvent]], str | None]:
        """A page of (delivery id, stored event), newest first, and the next cursor."""
        ...
    def replace_event(self, workspace: str, endpoint_id: str, delivery_id: str,
                      event: WebhookEvent) -> None: ...
    def read_many(self, endpoints: Collection[tuple[str, str]],
                  deliveries: Collection[tuple[str, str, str]]) -> Prefetched: ...


class WebhookSender(Protocol):
    """POSTs a body to an endpoint URL, checking where the host resolves each time."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str],
             timeout: float) -> AttemptResult: ...


class AddressResolver(Protocol):
    def addresses(self, host: str) -> list[str]:
        """The host's IP addresses; an empty list if it does not resolve."""
        ...


class BatchQueue(Protocol):
    """A queue taking many messages a call (SendMessageBatch), or one with a delay."""

    def send_batch(self, bodies: Sequence[Mapping[str, Any]]) -> None: ...
    def send(self, job: Mapping[str, Any], delay_seconds: int = 0) -> None: ...
