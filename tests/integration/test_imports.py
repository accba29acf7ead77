"""The import pipeline over in-process moto, the event pump playing Lambda."""

from __future__ import annotations

import csv
import io
import json
import logging

import boto3
import openpyxl
import requests

from chalicelib.config import get_settings
from tests.integration.conftest import Api
from tests.xlsx_parts import shared_string_bomb

MESSY = (
    "Prénom;Nom;E-mail;Téléphone;Société;Notes\r\n"
    "Ada;Lovelace;ADA@Example.com;(415) 555-0134;Engines;\"first line\nsecond line\"\r\n"
    "Grace;Hopper;grace@navy.mil;not a phone;Navy;\r\n"
    "Ada;L.; ada@example.com ;+1 415 555 0199;Engines;dup in file\r\n"
    "Alan;Turing;;+44 20 7946 0018;Bletchley;no email\r\n"
    "Bad;Email;bad@@example;;;\r\n"
    "Café;Owner;cafe@example.fr;06 12 34 56 78;Café Société;accents\r\n"
).encode("cp1252")


def upload(api: Api, list_id: str, data: bytes, filename: str = "leads.csv",
           **options) -> dict:
    created = api.post(f"/lists/{list_id}/imports", {"filename": filename, **options})
    assert created.status_code == 201, created.json_body
    body = created.json_body
    assert body["status"] == "awaiting_upload"
    form = body["upload"]
    response = requests.post(form["url"], data=form["fields"], files={"file": (filename, data)})
    assert response.status_code in (200, 204), response.text
    return body


def wait_status(api: Api, pump, import_id: str, *statuses: str) -> dict:
    for _ in range(50):
        pump.drain()
        job = api.get(f"/imports/{import_id}").json_body
        if job["status"] in statuses:
            return job
    raise AssertionError(f"import stuck in {job['status']}")


def test_messy_csv_analyse_preview_start_and_report(api: Api, pump):
    lid = api.new_list()["id"]
    job = upload(api, lid, MESSY)
    # WHEN the upload is analysed
    ready = wait_status(api, pump, job["id"], "ready", "failed")
    # THEN the format and mapping were detected and a preview is ready
    assert ready["status"] == "ready", ready["error"]
    assert ready["file"]["encoding"] == "cp1252" and ready["file"]["delimiter"] == ";"
    assert ready["mapping"]["E-mail"] == "email"
    assert ready["mapping"]["Prénom"] == "first_name"
    assert ready["mapping"]["Téléphone"] == "phone"
    assert ready["preview"][0]["lead"]["email"] == "ada@example.com"
    assert ready["preview"][0]["lead"]["notes"] == "first line\nsecond line"
    # WHEN it is started
    started = api.post(f"/imports/{job['id']}/start", {})
    assert started.status_code == 202, started.json_body
    done = wait_status(api, pump, job["id"], "completed", "completed_with_errors", "failed")
    # THEN every row is accounted for exactly
    assert done["status"] == "completed", done
    assert done["counts"] == {"saved": 3, "updated": 0, "unchanged": 0,
                              "duplicates": 1, "invalid": 2}
    assert done["total_rows"] == 6 and done["processed_rows"] == 6 and done["progress"] == 100
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 3
    grace = api.get(f"/lists/{lid}/leads?q=grace").json_body["items"][0]
    assert grace["phone"] is None  # broken optional phone dropped, lead saved
    cafe = api.get(f"/lists/{lid}/leads?q=cafe").json_body["items"][0]
    assert cafe["company"] == "Café Société"
    assert cafe["phone"] is None  # "06 12 34 56 78" is not a US number: dropped, warned
    # the error report explains every rejected row and warns about the dropped phone
    report = api.get(f"/imports/{job['id']}/errors")
    assert report.headers["Content-Type"].startswith("text/csv")
    rows = {int(r["row"]): r for r in csv.DictReader(io.StringIO(report.body.decode()))}
    assert rows[5]["codes"] == "duplicate_in_file" and "(row 2)" in rows[5]["reason"]
    assert rows[6]["codes"] == "missing_identity"
    assert rows[7]["codes"] == "invalid_email"
    assert rows[4]["outcome"] == "saved_with_warnings"
    assert rows[4]["codes"] in ("invalid_phone", "unparseable_phone")


def test_reimport_saves_nothing_and_reports_every_row_as_duplicate(api: Api, pump):
    lid = api.new_list()["id"]
    data = b"email,first_name\na@example.com,A\nb@example.com,B\nc@example.com,C\n"
    first = upload(api, lid, data, auto_start=True)
    assert wait_status(api, pump, first["id"], "completed")["counts"]["saved"] == 3
    # an API edit of an imported lead must survive the re-import
    lead = api.get(f"/lists/{lid}/leads?q=a@example.com").json_body["items"][0]
    api.patch(f"/lists/{lid}/leads/{lead['id']}", {"status": "replied"})
    second = upload(api, lid, data, auto_start=True)
    done = wait_status(api, pump, second["id"], "completed")
    assert done["counts"] == {"saved": 0, "updated": 0, "unchanged": 0,
                              "duplicates": 3, "invalid": 0}
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 3
    assert api.get(f"/lists/{lid}/leads/{lead['id']}").json_body["status"] == "replied"
    report = list(csv.DictReader(io.StringIO(
        api.get(f"/imports/{second['id']}/errors").body.decode())))
    assert [r["codes"] for r in report] == ["duplicate_in_list"] * 3


def test_chunk_delivered_twice_counts_once(api: Api, pump, monkeypatch):
    # GIVEN an import split into several chunks
    from chalicelib.bootstrap import services

    monkeypatch.setattr(services().import_splitter, "_chunk_rows", 2)
    lid = api.new_list()["id"]
    rows = "".join(f"p{i}@example.com\n" for i in range(7))
    job = upload(api, lid, ("email\n" + rows).encode(), auto_start=True)
    from chalicelib.entrypoints import import_handlers as handlers

    def take(queue: str) -> list[dict]:
        sqs = boto3.client("sqs", region_name=get_settings().region)
        url = sqs.get_queue_url(QueueName=get_settings().queue_name(queue))["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                 "body": m["Body"]} for m in messages]

    # deliver the upload and the split by hand, and keep the chunk messages
    handlers.on_upload_records(take("uploads"))
    handlers.on_split_records(take("splits"))
    records = take("chunks")
    on_chunk_records = handlers.on_chunk_records
    assert len(records) == 4
    # WHEN every chunk is delivered twice
    assert on_chunk_records(records) == {"batchItemFailures": []}
    assert on_chunk_records(records) == {"batchItemFailures": []}
    pump.drain()
    # THEN counts and the list are exact
    done = api.get(f"/imports/{job['id']}").json_body
    assert done["status"] == "completed"
    assert done["counts"] == {"saved": 7, "updated": 0, "unchanged": 0,
                              "duplicates": 0, "invalid": 0}
    assert api.get(f"/lists/{lid}").json_body["lead_count"] == 7
    assert len(api.get(f"/lists/{lid}/leads?limit=50").json_body["items"]) == 7


def test_start_rules(api: Api, pump):
    lid = api.new_list()["id"]
    job = upload(api, lid, b"name,mail\nAda,ada@example.com\n")
    not_ready = api.post(f"/imports/{job['id']}/start", {})
    # not analysed yet (the pump has not run)
    assert not_ready.status_code == 409
    assert not_ready.json_body["error"]["code"] == "import_not_ready"
    wait_status(api, pump, job["id"], "ready")
    bad = api.post(f"/imports/{job['id']}/start", {"mapping": {"mail": "e_mail"}})
    assert bad.status_code == 400
    codes = {e["code"] for e in bad.json_body["error"]["details"]["errors"]}
    assert "unknown_target_field" in codes
    unmapped = api.post(f"/imports/{job['id']}/start", {"mapping": {"mail": None}})
    assert unmapped.status_code == 400
    assert "identity_not_mapped" in {e["code"] for e in
                                     unmapped.json_body["error"]["details"]["errors"]}
    ok = api.post(f"/imports/{job['id']}/start", {"mapping": {"mail": "email"}})
    assert ok.status_code == 202
    assert wait_status(api, pump, job["id"], "completed")["counts"]["saved"] == 1


def test_upload_over_the_limit_is_refused_by_s3(api: Api, pump, monkeypatch):
    from chalicelib.bootstrap import services

    # GIVEN an upload form for at most 100 bytes
    monkeypatch.setattr(services().imports, "_max_bytes", 100)
    lid = api.new_list()["id"]
    job = api.post(f"/lists/{lid}/imports", {"filename": "leads.csv"}).json_body
    # WHEN a bigger file is posted with it
    form = job["upload"]
    response = requests.post(form["url"], data=form["fields"],
                             files={"file": ("leads.csv", b"email\n" + b"x@example.com\n" * 20)})
    # THEN S3 refuses it (the policy's content-length-range), and the import waits on
    assert response.status_code == 400 and "<Code>EntityTooLarge</Code>" in response.text
    assert "<MaxSizeAllowed>100</MaxSizeAllowed>" in response.text
    pump.drain()
    assert api.get(f"/imports/{job['id']}").json_body["status"] == "awaiting_upload"


def test_upload_over_the_analysers_limit_fails_the_import(api: Api, pump, monkeypatch):
    from chalicelib.bootstrap import services

    # The analyser checks the size again (a limit lowered after the form was handed out)
    monkeypatch.setattr(services().import_analyser._source._file, "_max_bytes", 100)
    lid = api.new_list()["id"]
    job = upload(api, lid, b"email\n" + b"x@example.com\n" * 20)
    failed = wait_status(api, pump, job["id"], "failed")
    assert failed["error"]["code"] == "file_too_large"


def test_upload_to_another_imports_key_is_refused(api: Api, pump):
    lid = api.new_list()["id"]
    victim = api.post(f"/lists/{lid}/imports", {"filename": "a.csv"}).json_body
    attacker = api.post(f"/lists/{lid}/imports", {"filename": "b.csv"}).json_body
    # the attacker keeps its own signed fields but aims at the victim's import prefix
    fields = dict(attacker["upload"]["fields"])
    fields["key"] = f"uploads/{victim['id']}/guess"
    response = requests.post(attacker["upload"]["url"], data=fields,
                             files={"file": ("x.csv", b"email\nevil@example.com\n")})
    # S3 refuses it: the signed policy names the attacker's own key
    assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text
    assert "Policy Condition failed" in response.text
    # and an object that reached the prefix another way (anyone with PutObject
    # on uploads/) never becomes the victim's file: the notification deletes it
    s3 = boto3.client("s3", region_name=get_settings().region)
    s3.put_object(Bucket=get_settings().bucket_name, Key=f"uploads/{victim['id']}/guess",
                  Body=b"email\nevil@example.com\n")
    pump.drain()
    assert api.get(f"/imports/{victim['id']}").json_body["status"] == "awaiting_upload"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=get_settings().bucket_name,
                                                 Prefix=f"uploads/{victim['id']}/")
            .get("Contents", [])]
    assert keys == []


def test_imports_are_workspace_scoped(api: Api, other_api: Api, pump):
    lid = api.new_list()["id"]
    job = upload(api, lid, b"email\na@example.com\n")
    assert other_api.get(f"/imports/{job['id']}").status_code == 404
    assert other_api.get(f"/imports/{job['id']}/errors").status_code == 404
    assert other_api.post(f"/imports/{job['id']}/start", {}).status_code == 404
    listed = api.get(f"/lists/{lid}/imports").json_body["items"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_template_has_every_standard_field(api: Api):
    response = api.get("/imports/template.csv")
    header = next(csv.reader(io.StringIO(response.body.decode())))
    assert {"first_name", "last_name", "email", "phone", "company", "job_title",
            "linkedin_url", "location", "notes", "tags"} <= set(header)


def test_s3_test_event_is_ignored(api: Api, pump):
    from chalicelib.entrypoints.import_handlers import on_upload_records

    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    assert on_upload_records([{"messageId": "t", "body": body}]) == {"batchItemFailures": []}


def test_imported_lead_shows_its_import_in_the_timeline(api: Api, pump):
    lid = api.new_list()["id"]
    job = upload(api, lid, b"email\nsolo@example.com\n", auto_start=True)
    wait_status(api, pump, job["id"], "completed")
    lead = api.get(f"/lists/{lid}/leads").json_body["items"][0]
    assert lead["source"]["import_id"] == job["id"] and lead["source"]["row"] == 2
    api.patch(f"/lists/{lid}/leads/{lead['id']}", {"status": "contacted"})
    items = api.get(f"/lists/{lid}/leads/{lead['id']}/activity").json_body["items"]
    # the verdict the background verification wrote sits between them, by time
    assert [a["type"] for a in items] == ["status_changed", "verified", "imported"]
    assert items[1]["data"] == {"email": "solo@example.com", "email_status": "valid",
                                "reason": "mx_found"}
    assert items[-1]["data"]["filename"] == "leads.csv"


def test_reading_an_import_before_analysis_does_not_hide_the_analysis(api: Api, pump):
    # GIVEN a client polling the import while it waits for analysis (another
    # process analyses it on AWS; here the same process, so the cache is shared)
    lid = api.new_list()["id"]
    job = upload(api, lid, b"email\nx@example.com\n")
    assert api.get(f"/imports/{job['id']}").json_body["mapping"] == {}
    # WHEN the analysis lands THEN the next read shows it
    ready = wait_status(api, pump, job["id"], "ready")
    assert ready["mapping"] == {"email": "email"} and ready["preview"]


def test_legacy_xls_and_a_chosen_sheet(api: Api, pump, tmp_path):
    # GIVEN an Excel 97 workbook whose second sheet holds the leads, phones as numbers
    import xlwt

    book = xlwt.Workbook()
    book.add_sheet("Notes").write(0, 0, "nothing here")
    sheet = book.add_sheet("Leads")
    for col, name in enumerate(["Email", "First Name", "Mobile Phone"]):
        sheet.write(0, col, name)
    sheet.write(1, 0, "xls@example.com")
    sheet.write(1, 1, "Excel")
    sheet.write(1, 2, 4155550134)  # a number cell, as spreadsheets store phones
    path = tmp_path / "old.xls"
    book.save(str(path))
    lid = api.new_list()["id"]
    # WHEN it is imported with the sheet named
    job = upload(api, lid, path.read_bytes(), filename="old.xls", sheet="Leads",
                 auto_start=True)
    done = wait_status(api, pump, job["id"], "completed", "failed")
    # THEN the sheet was read and the phone normalised
    assert done["status"] == "completed", done["error"]
    assert done["file"]["kind"] == "xls"
    lead = api.get(f"/lists/{lid}/leads").json_body["items"][0]
    assert (lead["email"], lead["first_name"], lead["phone"]) == \
        ("xls@example.com", "Excel", "+14155550134")


def test_a_sheet_that_expands_past_memory_fails_the_import(api: Api, pump, caplog):
    # Issue 10: a 55 KB xlsx whose 150k cells (no r=) all point at one 10 KB
    # shared string passed the zip checks; calamine's copies took the analyser
    # from 220 MB to 1.65 GB, and the import sat in `analysing`.
    caplog.set_level(logging.INFO, logger="leadpipe.sqs")
    lid = api.new_list()["id"]
    job = upload(api, lid, shared_string_bomb(), filename="leads.xlsx", auto_start=True)
    done = wait_status(api, pump, job["id"], "failed", "ready", "completed",
                       "completed_with_errors")
    assert done["status"] == "failed"
    assert done["error"]["code"] == "file_too_complex"
    crashes = [r.getMessage() for r in caplog.records
               if r.name == "leadpipe.sqs" and r.levelno >= logging.ERROR]
    assert not crashes


def test_a_large_ordinary_spreadsheet_still_imports(api: Api, pump):
    # GIVEN 5,000 leads in an xlsx, every row repeating the same long note
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Email", "First Name", "Company", "Phone", "Notes"])
    note = "Met at the fair; wants a demo in spring. " * 25
    for i in range(5_000):
        sheet.append([f"lead{i}@example.com", f"Lead {i}", f"Company {i % 50}",
                      4155550000 + i, note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    lid = api.new_list()["id"]
    # WHEN it is imported
    job = upload(api, lid, buffer.getvalue(), filename="leads.xlsx", auto_start=True)
    done = wait_status(api, pump, job["id"], "completed", "completed_with_errors", "failed")
    # THEN every row is saved
    assert done["status"] == "completed", done["error"]
    assert done["counts"]["saved"] == 5_000


def test_error_report_cells_and_headers_are_never_formulas(api: Api, pump):
    # Found by the probe of issue 10: header cells were written raw, and a
    # formula after leading spaces passed.
    lid = api.new_list()["id"]
    data = (b'email,"=HYPERLINK(""http://x"")", notes\n'
            b'bad@@,  @SUM(A1), =1+1\n'
            b'ok@example.com,-1-1,fine\n')
    job = upload(api, lid, data, auto_start=True)
    wait_status(api, pump, job["id"], "completed", "completed_with_errors")
    text = api.get(f"/imports/{job['id']}/errors").body.decode()
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[4:] == ["email", "'=HYPERLINK(\"http://x\")", "notes"]
    assert rows[0][4:] == ["bad@@", "'  @SUM(A1)", "' =1+1"]
