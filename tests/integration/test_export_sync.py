"""GET /lists/{id}/export: small lists inline, larger ones refused early and sent to the job."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.bootstrap import services
from chalicelib.domain.cursor import LeadPosition
from chalicelib.domain.errors import PayloadTooLarge
from chalicelib.domain.lead import Lead
from chalicelib.domain.lead_list import LeadList
from chalicelib.services.exports import SYNC_EXPORT_MAX_BYTES, ExportService
from chalicelib.services.lead_search import LeadSearch
from tests.integration.conftest import Api

# Notes and four custom fields of 1,000 characters (the most a text holds): 5 KB a lead.
NOTE = ("Met at the expo; said \"call me in Q3\".\n" * 30)[:1000]
LONG_FIELDS = {f"field{n}": NOTE for n in range(4)}


class CountingRepository:
    """The real repository, counting the leads a walk hands out."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo
        self.leads_read = 0

    def walk_leads(self, lst: LeadList, start: LeadPosition | None = None,
                   page_size: int = 200) -> Iterator[tuple[Lead, LeadPosition]]:
        for lead, position in self._repo.walk_leads(lst, start, page_size):
            self.leads_read += 1
            yield lead, position

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


def _add(api: Api, list_id: str, count: int, pump: Any, notes: str | None) -> None:
    for start in range(0, count, 100):
        leads = [{"email": f"n{i}@example.com", "first_name": "=1+1", "notes": notes,
                  "custom_fields": LONG_FIELDS if notes == NOTE else {}}
                 for i in range(start, min(count, start + 100))]
        response = api.post(f"/lists/{list_id}/leads/batch", {"leads": leads})
        assert response.status_code in (200, 201, 202), response.json_body
        assert response.json_body["invalid"] == 0, response.json_body["results"][:1]
    pump.drain()


def test_a_list_over_the_limit_is_refused_after_a_limits_worth_of_leads(api: Api, pump: Any):
    # GIVEN 1,300 leads with long notes and fields: over 7 MB of CSV
    lst = api.new_list()
    _add(api, lst["id"], 1300, pump, NOTE)
    assert api.get(f"/lists/{lst['id']}").json_body["lead_count"] == 1300
    started = api.post(f"/lists/{lst['id']}/exports", {})
    pump.drain()
    assert api.get(f"/exports/{started.json_body['id']}").json_body["bytes"] > 7_000_000
    # WHEN it is exported synchronously
    response = api.get(f"/lists/{lst['id']}/export")
    # THEN 413 export_too_large, pointing to the background export
    assert response.status_code == 413, response.body[:200]
    error = response.json_body["error"]
    assert error["code"] == "export_too_large"
    assert error["details"]["export_url"].endswith(f"/lists/{lst['id']}/exports")
    assert error["details"]["export_path"] == f"/lists/{lst['id']}/exports"
    assert error["details"]["method"] == "POST"
    assert f"POST {error['details']['export_url']}" in error["message"]
    # ...decided on about a limit's worth of leads, not the whole list
    real = services().exports
    counting = CountingRepository(real._repo)
    exports = ExportService(real._store, real._files, real._lists, counting,  # type: ignore[arg-type]
                            real._jobs, url_seconds=60,
                            search=LeadSearch(counting, real._search._index))  # type: ignore[arg-type]
    workspace = services().auth.authenticate(f"Bearer {api.token}")
    with pytest.raises(PayloadTooLarge):
        exports.export_small(workspace, lst["id"], export_url="x")
    per_lead = 5 * (len(NOTE) + NOTE.count("\n") + NOTE.count('"') * 3)  # escaped, quoted
    limit_worth = SYNC_EXPORT_MAX_BYTES // per_lead
    assert limit_worth - 50 <= counting.leads_read <= limit_worth + 1 < 1300


def test_a_small_list_exports_inline(api: Api, pump: Any):
    lst = api.new_list()
    _add(api, lst["id"], 3, pump, "short")
    response = api.get(f"/lists/{lst['id']}/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{lst["id"]}.csv"'
    rows = list(csv.reader(io.StringIO(response.body.decode(), newline="")))
    assert len(rows) == 4 and rows[1][rows[0].index("first_name")] == "'=1+1"
    assert len(response.body) < SYNC_EXPORT_MAX_BYTES
