"""The Activity screen in a browser: the workspace's feed (GET /activity) newest first, each
entry with its type, a link to its lead, its time and its data as text (call outcome and
duration, recording link, transcript collapsed, message text, campaign step); a type filter
and "Load more" through the cursor."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, Console, shot
from tests.browser.test_lead_table import app_errors, make_list, open_list, rows


def at(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def lead_with_events(api: Api) -> tuple[str, str, str]:
    list_id = make_list(api, [{"first_name": "Grace", "last_name": "Hopper",
                               "email": "grace@navy.example", "phone": "+14155550134"}],
                        "Feed")
    lead_id = api.get(f"/lists/{list_id}/leads")["items"][0]["id"]
    tag = f"{time.time_ns()}"
    campaign = {"id": "q4-push", "name": "Q4 push", "step": 2, "total_steps": 3}
    answer = api.post("/events", {"events": [
        {"id": f"msg-{tag}", "type": "message", "occurred_at": at(60),
         "lead": {"id": lead_id, "list_id": list_id}, "campaign": campaign,
         "data": {"channel": "whatsapp", "direction": "outbound",
                  "text": "Hi Grace <b>not bold</b>, are you free on Monday?"}},
        {"id": f"call-{tag}", "type": "call", "occurred_at": at(30),
         "lead": {"id": lead_id, "list_id": list_id}, "campaign": campaign,
         "data": {"direction": "outbound", "duration_s": 184, "outcome": "answered",
                  "transcript": "Agent: hello. Grace: hello back.",
                  "recording_url": "https://recordings.example/rec-1.mp3"}},
    ]})
    assert [r["result"] for r in answer["results"]] == ["accepted", "accepted"], answer
    return list_id, lead_id, tag


def test_the_feed_shows_events_newest_first_with_their_data_and_filters_by_type(
        page: Page, api: Api, console: Console):
    list_id, lead_id, _ = lead_with_events(api)
    newest = api.get("/activity", limit=5)["items"]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    feed = page.get_by_role("list", name="Activity, newest first")
    entries = feed.locator("li.feed-entry")
    # the first entries are the API's first entries, in its order
    expect(entries.first).to_be_visible()
    shown = [entries.nth(i).get_attribute("data-activity-id") for i in range(len(newest))]
    assert shown == [item["id"] for item in newest]

    call = entries.filter(has=page.locator("strong", has_text=re.compile("^Call$"))).filter(
        has=page.locator(f'a[data-lead-id="{lead_id}"]')).first
    expect(call).to_contain_text("Outcome: Answered")
    expect(call).to_contain_text("Duration: 3 min 4 s")
    expect(call).to_contain_text("Campaign: Q4 push · Step 2 of 3")
    expect(call.get_by_role("link", name="Listen to the recording")).to_have_attribute(
        "href", "https://recordings.example/rec-1.mp3")
    lead_link = call.get_by_role("link", name="Grace Hopper")
    expect(lead_link).to_have_attribute("href", f"#/lists/{list_id}?lead={lead_id}")

    message = entries.filter(has=page.locator("strong", has_text="Message")).filter(
        has=page.locator(f'a[data-lead-id="{lead_id}"]')).first
    # text from the API stays text
    expect(message.locator(".message-text")).to_have_text(
        "Hi Grace <b>not bold</b>, are you free on Monday?")
    expect(message).to_contain_text("Whatsapp · Outbound")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "activity")

    # WHEN the person picks a type THEN only that type shows, as the API answers it
    page.get_by_label("Type").select_option("message")
    expect(page).to_have_url(re.compile(r"#/activity\?type=message$"))
    expect(entries.first).to_be_visible()
    only = api.get("/activity", types="message", limit=25)["items"]
    expect(entries).to_have_count(len(only))
    for title in entries.locator("strong.feed-type").all_inner_texts():
        assert title == "Message"

    # the lead link opens the lead's panel in its list
    entries.first.locator("a.lead-link").click()
    expect(page.get_by_role("complementary", name="Lead details")).to_be_visible()
    assert not app_errors(console), console.errors


def test_load_more_follows_the_cursor_and_a_type_without_entries_says_so(
        page: Page, api: Api, console: Console):
    list_id, lead_id, tag = lead_with_events(api)
    api.post("/events", {"events": [
        {"id": f"open-{tag}-{i}", "type": "email_opened", "occurred_at": at(20 - i * 0.1),
         "lead": {"id": lead_id, "list_id": list_id}} for i in range(30)]})
    expected = api.get("/activity", types="email_opened", limit=25)
    assert expected["next_cursor"]
    page.goto(page.url.split("#")[0] + "#/activity?type=email_opened")
    entries = page.locator("li.feed-entry")
    expect(entries).to_have_count(25)
    more = page.get_by_role("button", name="Load more")
    more.click()
    second = api.get("/activity", types="email_opened", limit=25,
                     cursor=expected["next_cursor"])["items"]
    expect(entries).to_have_count(25 + len(second))
    assert entries.nth(25).get_attribute("data-activity-id") == second[0]["id"]

    # a phone-sized screen shows the feed without sideways scrolling
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # unfiltered types that never happened here read as an empty state
    if not api.get("/activity", types="follow_up.cancelled", limit=1)["items"]:
        page.get_by_label("Type").select_option("follow_up.cancelled")
        expect(page.get_by_role("status").filter(has_text="No follow-up cancelled activity")
               ).to_be_visible()
    assert not app_errors(console), console.errors


def test_the_lead_panel_shows_the_events_and_adds_and_cancels_follow_ups(
        page: Page, api: Api, console: Console):
    list_id, lead_id, _ = lead_with_events(api)
    page.goto(page.url.split("#")[0] + f"#/lists/{list_id}?lead={lead_id}")
    panel = page.get_by_role("complementary", name="Lead details")
    expect(panel.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    timeline = panel.get_by_role("list", name="Activity, newest first")
    call = timeline.locator("li.activity-call")
    expect(call).to_contain_text("Outcome: Answered")
    expect(call).to_contain_text("Step 2 of 3")
    expect(call.get_by_role("link", name="Listen to the recording")).to_have_attribute(
        "href", "https://recordings.example/rec-1.mp3")
    # the timeline has the transcript whole, collapsed until opened
    transcript = call.locator("details.transcript")
    expect(transcript.locator(".transcript-text")).to_be_hidden()
    transcript.locator("summary").click()
    expect(transcript.locator(".transcript-text")).to_have_text("Agent: hello. Grace: hello back.")
    expect(timeline.locator("li.activity-message .message-text")).to_have_text(
        "Hi Grace <b>not bold</b>, are you free on Monday?")

    # WHEN a follow-up is added THEN the API has it and the panel lists it
    follow_ups = panel.get_by_role("list", name="Open follow-ups")
    expect(follow_ups).to_contain_text("No follow-up planned.")
    panel.get_by_label("Follow-up due").fill("2030-05-04T10:30")
    panel.get_by_label("Follow-up note").fill("Send the proposal")
    panel.get_by_role("button", name="Add follow-up").click()
    expect(page.get_by_text("Follow-up added.")).to_be_visible()
    saved = api.get(f"/lists/{list_id}/leads/{lead_id}/follow-ups")["items"]
    assert [(fu["status"], fu["note"]) for fu in saved] == [("open", "Send the proposal")]
    assert saved[0]["due_at"].startswith("2030-05-04")
    row = follow_ups.locator("li.follow-up")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Send the proposal")
    expect(timeline.locator("li.activity-follow_up-created").first).to_contain_text(
        "Send the proposal")
    assert api.get(f"/lists/{list_id}/leads/{lead_id}")["next_follow_up_at"] == saved[0]["due_at"]
    # the table row follows
    row_next = page.locator(f'tr[data-lead-id="{lead_id}"] .next-follow-up time')
    expect(row_next).to_have_attribute("datetime", saved[0]["due_at"])

    # WHEN it is cancelled THEN the API says cancelled and the panel empties
    row.get_by_role("button", name=re.compile("^Cancel the follow-up due")).click()
    expect(page.get_by_text("Follow-up cancelled.")).to_be_visible()
    expect(follow_ups).to_contain_text("No follow-up planned.")
    expect(row_next).to_have_count(0)
    assert [fu["status"] for fu in api.get(f"/lists/{list_id}/leads/{lead_id}/follow-ups")[
        "items"]] == ["cancelled"]
    assert not app_errors(console), console.errors


def test_the_lead_table_filters_by_campaign_and_shows_the_next_follow_up(
        page: Page, api: Api, console: Console):
    list_id, lead_id, _ = lead_with_events(api)
    api.post(f"/lists/{list_id}/leads", {"first_name": "Alan", "email": "alan@bletchley.example"})
    due = api.post(f"/lists/{list_id}/leads/{lead_id}/follow-ups",
                   {"due_at": "2030-05-04T10:30:00+00:00", "note": "Proposal"})["due_at"]
    open_list(page, list_id)
    expect(rows(page)).to_have_count(2)
    grace = page.locator("tr", has_text="Grace Hopper")
    follow_up = grace.locator(".next-follow-up time")
    expect(follow_up).to_have_attribute("datetime", due)
    expect(grace.locator(".next-follow-up")).to_contain_text("Follow-up: ")
    expect(grace.locator(".campaigns")).to_have_text("Q4 push · step 2/3")
    expect(page.locator("tr", has_text="Alan").locator(".outreach-lines")).to_have_count(0)

    # WHEN the person filters by the campaign THEN only its leads show, as the API answers
    page.get_by_label("Campaign", exact=True).fill("q4-push")
    expect(page).to_have_url(re.compile(r"\?campaign=q4-push$"))
    expected = api.get(f"/lists/{list_id}/leads", campaign="q4-push")["items"]
    assert [lead["id"] for lead in expected] == [lead_id]
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-lead-id", lead_id)
    assert not app_errors(console), console.errors
