"""The one place that knows the concrete adapters and wires the services."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from chalicelib.config import Settings, get_settings
from chalicelib.services.auth import AuthService
from chalicelib.services.imports import ImportService
from chalicelib.services.jobs import JobRunner
from chalicelib.services.leads import LeadService
from chalicelib.services.lists import ListService


@dataclass(frozen=True)
class Services:
    auth: AuthService
    lists: ListService
    leads: LeadService
    jobs: JobRunner
    imports: ImportService


def build_services(settings: Settings) -> Services:
    # Adapters are imported here, at wiring time: models read table settings.
    from chalicelib.adapters.dynamo_imports import DynamoImports  # noqa: PLC0415
    from chalicelib.adapters.dynamo_repository import DynamoRepository  # noqa: PLC0415
    from chalicelib.adapters.s3_files import S3Files  # noqa: PLC0415
    from chalicelib.adapters.sqs_jobs import SqsJobQueue  # noqa: PLC0415

    repo = DynamoRepository()
    queue = SqsJobQueue(settings.jobs_queue_name, settings.region)
    budget = settings.request_budget_seconds
    lists = ListService(repo, queue, shards=settings.lead_shards, budget_seconds=budget)
    leads = LeadService(repo, lists, queue, budget_seconds=budget,
                        max_batch=settings.max_batch_leads)
    # A worker gets most of its function's timeout, leaving time to hand off.
    runner = JobRunner(lists, leads, queue, budget_seconds=max(budget, 40.0))
    imports = ImportService(
        DynamoImports(), S3Files(settings.bucket_name, settings.region), lists,
        SqsJobQueue(settings.queue_name("splits"), settings.region),
        SqsJobQueue(settings.queue_name("chunks"), settings.region),
        max_upload_bytes=settings.max_upload_bytes,
        upload_url_seconds=settings.upload_url_seconds, chunk_rows=settings.chunk_rows)
    return Services(auth=AuthService(repo), lists=lists, leads=leads, jobs=runner,
                    imports=imports)


@lru_cache(maxsize=1)
def services() -> Services:
    """Services of this process (one Lambda container), built on first use."""
    return build_services(get_settings())
