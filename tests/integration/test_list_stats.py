"""GET /lists/{id}/stats and `count=true` through the API, and the filters' errors."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Api


def _leads(api: Api, list_id: str) -> list[dict[str, Any]]:
    leads = [{"email": f"p{i}@example.com", "status": "contacted" if i % 3 == 0 else "new",
              "tags": ["VIP"] if i % 4 == 0 else (["cold", "vip"] if i % 5 == 0 else [])}
             for i in range(30)]
    body = api.post(f"/lists/{list_id}/leads/batch", {"leads": leads}).json_body
    assert body["created"] == 30
    return leads


def test_stats_count_every_status_source_and_tag(api: Api) -> None:
    lid = api.new_list()["id"]
    _leads(api, lid)
    stats = api.get(f"/lists/{lid}/stats").json_body
    assert stats["leads"] == 30
    assert stats["by_status"]["new"] == 20 and stats["by_status"]["contacted"] == 10
    assert stats["by_status"]["replied"] == 0  # every status named
    assert stats["by_email_status"]["pending"] == 30
    assert stats["by_source"] == {"api": 30}
    # tags counted case-insensitively: VIP on 8 leads, vip on 6 more (i % 20 == 0 has VIP only)
    assert stats["top_tags"][0] == {"tag": "vip", "count": 8 + 4}
    assert {"tag": "cold", "count": 4} in stats["top_tags"]
    assert stats["distinct_tags"] == 2
    # AND a delete, an edit and a bulk action move them
    first = next(lead for lead in api.get(f"/lists/{lid}/leads?status=contacted").json_body[
        "items"] if not lead["tags"])
    assert api.delete(f"/lists/{lid}/leads/{first['id']}").status_code == 204
    api.post(f"/lists/{lid}/leads/bulk", {"action": "set_status", "status": "replied",
                                          "filter": {"tag": "cold"}})
    stats = api.get(f"/lists/{lid}/stats").json_body
    assert stats["leads"] == 29
    assert sum(stats["by_status"].values()) == 29
    assert stats["by_status"]["replied"] == 4


def test_count_answers_with_the_page(api: Api) -> None:
    lid = api.new_list()["id"]
    _leads(api, lid)
    page = api.get(f"/lists/{lid}/leads?tag=vip&limit=5&count=true").json_body
    assert page["count"] == 12 and len(page["items"]) == 5 and page["next_cursor"]
    combined = api.get(f"/lists/{lid}/leads?tag=vip&status=new&count=true").json_body
    assert combined["count"] == len(combined["items"]) == sum(
        1 for i in range(30) if (i % 4 == 0 or i % 5 == 0) and i % 3 != 0)
    assert "count" not in api.get(f"/lists/{lid}/leads?tag=vip").json_body
    assert api.get(f"/lists/{lid}/leads?count=true").json_body["count"] == 30


def test_filter_errors_are_400s_with_stable_codes(api: Api) -> None:
    lid = api.new_list()["id"]
    _leads(api, lid)
    bad_source = api.get(f"/lists/{lid}/leads?source=fax")
    assert bad_source.status_code == 400
    assert bad_source.json_body["error"]["details"]["errors"][0]["code"] == "invalid_source"
    assert api.get(f"/lists/{lid}/leads?count=maybe").json_body["error"]["code"] == \
        "invalid_parameter"
    # a cursor of one filter is refused by another
    cursor = api.get(f"/lists/{lid}/leads?tag=vip&limit=2").json_body["next_cursor"]
    other = api.get(f"/lists/{lid}/leads?tag=cold&cursor={cursor}")
    assert other.status_code == 400 and other.json_body["error"]["code"] == "invalid_cursor"


def test_stats_of_another_workspace_list_is_404(api: Api, other_api: Api) -> None:
    lid = api.new_list()["id"]
    assert other_api.get(f"/lists/{lid}/stats").status_code == 404
