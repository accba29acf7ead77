"""The one place that knows the concrete adapters and wires the services."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from chalicelib.adapters.telemetry import EmfMetrics
from chalicelib.config import Settings, get_settings
from chalicelib.domain.connections import Provider
from chalicelib.domain.deliverability import TtlPolicy
from chalicelib.services.activity_feed import ActivityFeed
from chalicelib.services.analysis_store import AnalysisStore
from chalicelib.services.auth import AuthService
from chalicelib.services.connections import ConnectionService
from chalicelib.services.crm_links import CrmLinks
from chalicelib.services.crm_ports import CrmReader
from chalicelib.services.crm_rows import CrmRowSource
from chalicelib.services.erasure_deliveries import PersonDeliveries
from chalicelib.services.erasure_files import PersonFiles
from chalicelib.services.erasures import ErasureService
from chalicelib.services.events import EventService
from chalicelib.services.exports import ExportService
from chalicelib.services.file_source import FileRowSource
from chalicelib.services.follow_ups import FollowUpService
from chalicelib.services.import_analysis import ImportAnalyser
from chalicelib.services.import_chunks import ChunkProcessor
from chalicelib.services.import_erasure import ImportEraser
from chalicelib.services.import_lifecycle import ImportLifecycle
from chalicelib.services.import_report import ErrorReport
from chalicelib.services.import_split import ImportSplitter
from chalicelib.services.import_watchdog import ImportWatchdog, StallLimits
from chalicelib.services.imports import ImportService
from chalicelib.services.jobs import JobRunner
from chalicelib.services.lead_announcements import LeadAnnouncer
from chalicelib.services.lead_batches import LeadBatches
from chalicelib.services.lead_search import LeadSearch
from chalicelib.services.leads import LeadService
from chalicelib.services.lists import ListService
from chalicelib.services.people_backfill import PeopleBackfill
from chalicelib.services.person_suppression import PersonSuppression
from chalicelib.services.rate_limit import RateLimiter
from chalicelib.services.sheet_imports import SheetImports
from chalicelib.services.sheet_rows import SheetRowSource, SourceRouter
from chalicelib.services.status_outbox import StatusOutbox
from chalicelib.services.status_writeback import StatusWriteback
from chalicelib.services.suppressions import PeopleService, SuppressionService
from chalicelib.services.syncs import SyncService
from chalicelib.services.verification import VerificationService
from chalicelib.services.webhook_delivery import WebhookDelivery
from chalicelib.services.webhook_outbox import WebhookOutbox
from chalicelib.services.webhooks import WebhookService


@dataclass(frozen=True)
class Services:
    auth: AuthService
    lists: ListService
    leads: LeadService
    lead_batches: LeadBatches
    connections: ConnectionService
    exports: ExportService
    syncs: SyncService
    jobs: JobRunner
    imports: ImportService
    import_analyser: ImportAnalyser
    import_splitter: ImportSplitter
    import_chunks: ChunkProcessor
    import_lifecycle: ImportLifecycle
    import_watchdog: ImportWatchdog
    verification: VerificationService
    metrics: EmfMetrics
    rate_limiter: RateLimiter
    # Where browsers reach presigned uploads and downloads (the web app's CSP).
    browser_origins: tuple[str, ...]
    # Outreach (docs/events.md): events in, follow-ups, the workspace feed.
    events: EventService
    follow_ups: FollowUpService
    activity_feed: ActivityFeed
    # Webhooks out (docs/webhooks.md): endpoints, the outbox, the delivery worker.
    webhooks: WebhookService
    webhook_outbox: WebhookOutbox
    webhook_delivery: WebhookDelivery
    # Suppression and people across lists (docs/suppression.md).
    suppressions: SuppressionService
    people: PeopleService
    erasures: ErasureService
    people_backfill: PeopleBackfill


def build_services(settings: Settings) -> Services:
    # Adapters are imported here, at wiring time: models read table settings.
    from chalicelib.adapters.dns_lookup import (  # noqa: PLC0415
        DnsLookup,
        DnsSettings,
        parse_nameservers,
    )
    from chalicelib.adapters.dynamo_connections import DynamoConnections  # noqa: PLC0415
    from chalicelib.adapters.dynamo_erasures import DynamoErasures  # noqa: PLC0415
    from chalicelib.adapters.dynamo_exports import DynamoExports  # noqa: PLC0415
    from chalicelib.adapters.dynamo_external_ids import DynamoExternalIds  # noqa: PLC0415
    from chalicelib.adapters.dynamo_imports import DynamoImports  # noqa: PLC0415
    from chalicelib.adapters.dynamo_lead_batches import DynamoLeadBatches  # noqa: PLC0415
    from chalicelib.adapters.dynamo_lead_queries import DynamoLeadIndex  # noqa: PLC0415
    from chalicelib.adapters.dynamo_outreach import DynamoOutreach  # noqa: PLC0415
    from chalicelib.adapters.dynamo_people import DynamoPeople  # noqa: PLC0415
    from chalicelib.adapters.dynamo_rate_counter import DynamoRateCounter  # noqa: PLC0415
    from chalicelib.adapters.dynamo_repository import DynamoRepository  # noqa: PLC0415
    from chalicelib.adapters.dynamo_syncs import DynamoSyncs  # noqa: PLC0415
    from chalicelib.adapters.dynamo_tokens import DynamoTokens  # noqa: PLC0415
    from chalicelib.adapters.dynamo_verification import DynamoVerification  # noqa: PLC0415
    from chalicelib.adapters.google_sheets import GoogleSheets, SheetsUnauthorized  # noqa: PLC0415
    from chalicelib.adapters.hubspot_crm import HubSpotCrm  # noqa: PLC0415
    from chalicelib.adapters.kms_secrets import KmsSecrets  # noqa: PLC0415
    from chalicelib.adapters.oauth_tokens import OAuthTokens  # noqa: PLC0415
    from chalicelib.adapters.s3_files import S3Files  # noqa: PLC0415
    from chalicelib.adapters.salesforce_crm import SalesforceCrm  # noqa: PLC0415
    from chalicelib.adapters.sqs_jobs import SqsJobQueue  # noqa: PLC0415
    from chalicelib.adapters.webhook_wiring import webhook_adapters  # noqa: PLC0415

    repo = DynamoRepository()
    hooks = webhook_adapters(settings)
    webhook_outbox = WebhookOutbox(hooks.store, hooks.queue)
    announce = LeadAnnouncer(webhook_outbox)
    metrics = EmfMetrics()
    queue = SqsJobQueue(settings.jobs_queue_name, settings.region)
    budget = settings.request_budget_seconds
    lead_index = DynamoLeadIndex()
    people_store = DynamoPeople()
    suppressions = SuppressionService(people_store)
    lists = ListService(repo, queue, shards=settings.lead_shards, budget_seconds=budget,
                        index=lead_index, settle_seconds=settings.index_settle_seconds,
                        suppressions=suppressions)
    dns = DnsSettings(nameservers=parse_nameservers(settings.dns_nameservers),
                      timeout_seconds=settings.dns_timeout_seconds, retries=settings.dns_retries,
                      concurrency=settings.dns_concurrency)
    verification_store = DynamoVerification()
    verification = VerificationService(
        verification_store, DnsLookup(dns), verification_store,
        SqsJobQueue(settings.queue_name("verify"), settings.region), lists, repo,
        policy=TtlPolicy(settings.dns_min_ttl, settings.dns_max_ttl, settings.dns_unknown_ttl),
        retry_delays=settings.verify_retry_delays,
        # MX, A, AAAA and TXT each timing out on every try: a domain's worst case.
        lookup_seconds=4 * dns.timeout_seconds * (dns.retries + 1),
        concurrency=dns.concurrency, metrics=metrics, announce=announce)
    lead_batch_store = DynamoLeadBatches()
    people = PeopleService(people_store, repo, lead_batch_store)
    search = LeadSearch(repo, lead_index)
    status_outbox = StatusOutbox(queue)
    leads = LeadService(repo, lead_batch_store, lists, queue, verification,
                        budget_seconds=budget, search=search, outbox=status_outbox,
                        announce=announce, suppressions=suppressions)
    outreach = DynamoOutreach(repo)
    lead_batches = LeadBatches(lead_batch_store, lists, queue, verification,
                               budget_seconds=budget, max_batch=settings.max_batch_leads,
                               announce=announce, suppressions=suppressions)
    import_store = DynamoImports()
    files = S3Files(settings.bucket_name, settings.region)
    analyses = AnalysisStore(files)
    report = ErrorReport(files, url_seconds=settings.report_url_seconds)
    box = KmsSecrets(settings.kms_key_id, settings.region)
    connections = ConnectionService(DynamoConnections(), box, OAuthTokens())
    uploads_queue = SqsJobQueue(settings.queue_name("uploads"), settings.region)
    file_rows = FileRowSource(files, max_bytes=settings.max_upload_bytes)
    readers: dict[Provider, CrmReader] = {Provider.HUBSPOT: HubSpotCrm(),
                                          Provider.SALESFORCE: SalesforceCrm()}
    crm_rows = CrmRowSource(readers, analyses, connections)
    source = SourceRouter(file_rows, google_sheets=SheetRowSource(
        GoogleSheets(), files, analyses, connections, box, file_rows, SheetsUnauthorized),
        hubspot=crm_rows, salesforce=crm_rows)
    chunks_queue = SqsJobQueue(settings.queue_name("chunks"), settings.region)
    splits_queue = SqsJobQueue(settings.queue_name("splits"), settings.region)
    lifecycle = ImportLifecycle(import_store, analyses, splits_queue)
    sync_store = DynamoSyncs()
    syncs = SyncService(sync_store, lists, connections, readers, import_store, analyses,
                        lifecycle, outbox=webhook_outbox)
    lifecycle.on_finished(syncs.on_import_finished)
    lifecycle.on_finished(announce.import_finished)
    eraser = ImportEraser(import_store, files, lifecycle)
    export_store = DynamoExports()
    exports = ExportService(export_store, files, lists, repo, queue,
                            url_seconds=settings.report_url_seconds, search=search)
    # A worker gets most of its function's timeout, leaving time to hand off.
    erasures = ErasureService(DynamoErasures(), suppressions, people, repo,
                              PersonFiles(files, import_store, analyses, lifecycle, export_store),
                              PersonDeliveries(hooks.store), queue, announce=announce)
    people_backfill = PeopleBackfill(repo, people_store, queue)
    runner = JobRunner(lists, leads, lead_batches, eraser, queue,
                       budget_seconds=max(budget, 40.0),
                       writeback=StatusWriteback(lists, lead_batch_store, sync_store,
                                                 connections, readers),
                       exports=exports, erasures=erasures, people=people_backfill)
    imports = ImportService(import_store, files, analyses, lists, lifecycle, report, eraser,
                            max_upload_bytes=settings.max_upload_bytes,
                            upload_url_seconds=settings.upload_url_seconds,
                            sheets=SheetImports(connections, box, uploads_queue))
    chunks = ChunkProcessor(import_store, files, analyses, lists, lifecycle, report,
                            verification, metrics, suppressions=suppressions)
    chunks.add_matcher(CrmLinks(DynamoExternalIds(), repo, lead_batch_store, verification))
    analysing, splitting, chunk_stall = settings.stall_seconds
    watchdog = ImportWatchdog(
        import_store, files, lists, lifecycle, chunks,
        uploads_queue=uploads_queue,
        splits_queue=splits_queue, chunks_queue=chunks_queue,
        limits=StallLimits(analysing, splitting, chunk_stall, settings.stall_resumes))
    return Services(
        auth=AuthService(DynamoTokens()), lists=lists, leads=leads,
        lead_batches=lead_batches, jobs=runner, imports=imports,
        connections=connections, syncs=syncs, exports=exports,
        import_analyser=ImportAnalyser(import_store, files, source, analyses, lists, lifecycle),
        import_splitter=ImportSplitter(import_store, files, source, analyses, lists, lifecycle,
                                       chunks_queue, verification,
                                       chunk_rows=settings.chunk_rows),
        import_chunks=chunks, import_lifecycle=lifecycle, import_watchdog=watchdog,
        verification=verification, metrics=metrics,
        rate_limiter=RateLimiter(DynamoRateCounter(), per_minute=settings.rate_limit_per_minute),
        browser_origins=tuple(files.browser_origins()),
        # 500 events take longer than one lead edit: most of API Gateway's 29 s.
        events=EventService(repo, outreach, budget_seconds=max(budget, 20.0),
                            leads=lead_batch_store,
                            outbox=status_outbox, announce=announce,
                            people=PersonSuppression(suppressions, people)),
        suppressions=suppressions, people=people, erasures=erasures,
        people_backfill=people_backfill,
        follow_ups=FollowUpService(repo, lists, outreach, webhook_outbox),
        activity_feed=ActivityFeed(outreach),
        webhooks=WebhookService(hooks.store, box, hooks.queue, hooks.check_destination,
                                on_change=webhook_outbox.forget),
        webhook_outbox=webhook_outbox,
        webhook_delivery=WebhookDelivery(hooks.store, box, hooks.sender, hooks.queue))


@lru_cache(maxsize=1)
def services() -> Services:
    """Services of this process (one Lambda container), built on first use."""
    return build_services(get_settings())
