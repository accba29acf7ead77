"""The wizard's preview under another mapping: POST /imports/{id}/preview."""

from __future__ import annotations

from tests.integration.conftest import Api
from tests.integration.test_imports import MESSY, upload, wait_status


def test_a_changed_mapping_previews_as_it_would_save_and_stores_nothing(api: Api, pump):
    lid = api.new_list()["id"]
    job = upload(api, lid, MESSY)
    ready = wait_status(api, pump, job["id"], "ready")
    assert ready["preview"][0]["lead"]["company"] == "Engines"
    # WHEN the company column is mapped to the job title instead, and the notes ignored
    previewed = api.post(f"/imports/{job['id']}/preview",
                         {"mapping": {"Société": "job_title", "Notes": None}})
    # THEN the first rows show it as they would be saved
    assert previewed.status_code == 200, previewed.json_body
    body = previewed.json_body
    first = body["preview"][0]["lead"]
    assert first["job_title"] == "Engines" and not first.get("company") and not first.get("notes")
    assert body["mapping"]["Société"] == "job_title" and body["mapping"]["Notes"] is None
    assert body["sample_summary"]["rows_sampled"] == ready["sample_summary"]["rows_sampled"]
    # AND the import still holds the detected mapping (the start names the final one)
    assert api.get(f"/imports/{job['id']}").json_body["mapping"]["Société"] == "company"


def test_an_unfinished_mapping_is_previewed_with_its_problems_and_a_wrong_one_refused(
        api: Api, other_api: Api, pump):
    lid = api.new_list()["id"]
    job = upload(api, lid, MESSY)
    wait_status(api, pump, job["id"], "ready")
    # the identity unmapped: previewed, every row without an email, the problem named
    unmapped = api.post(f"/imports/{job['id']}/preview", {"mapping": {"E-mail": None}})
    assert unmapped.status_code == 200
    codes = {e["code"] for e in unmapped.json_body["sample_summary"]["mapping_errors"]}
    assert codes == {"identity_not_mapped"}
    # a column or a field that does not exist: 400 with each named
    for mapping, code in (({"Nope": "email"}, "unknown_column"),
                          ({"Notes": "shoe_size"}, "unknown_target_field"),
                          ({"Notes": 5}, "invalid_type")):
        wrong = api.post(f"/imports/{job['id']}/preview", {"mapping": mapping})
        assert wrong.status_code == 400, (mapping, wrong.json_body)
        assert code in {e["code"] for e in wrong.json_body["error"]["details"]["errors"]}
    assert api.post(f"/imports/{job['id']}/preview", {"mode": "skip"}).status_code == 400
    # another workspace's import: 404
    assert other_api.post(f"/imports/{job['id']}/preview", {}).status_code == 404
    # once started, there is nothing to preview any more
    assert api.post(f"/imports/{job['id']}/start", {}).status_code == 202
    late = api.post(f"/imports/{job['id']}/preview", {})
    assert late.status_code == 409 and late.json_body["error"]["code"] == "import_not_ready"
