// How an outreach event's data reads, shared by the activity feed and the lead
// panel's timeline. Everything goes in as text; a recording link is a link
// only when it is http(s), so a "javascript:" URL never becomes clickable.
import {formatDate, h, humanize} from "./dom.js";

export const EVENT_TITLES = {
  created: "Created", imported: "Imported", edited: "Edited", status_changed: "Status changed",
  note_added: "Note", tags_changed: "Tags changed", verified: "Email verified",
  updated_by_import: "Updated by an import", email_sent: "Email sent",
  email_opened: "Email opened", email_clicked: "Email clicked", replied: "Replied",
  bounced: "Bounced", unsubscribed: "Unsubscribed", call: "Call", message: "Message",
  meeting_booked: "Meeting booked", "follow_up.created": "Follow-up added",
  "follow_up.cancelled": "Follow-up cancelled", "follow_up.due": "Follow-up due",
};

export const ACTIVITY_TYPES = Object.keys(EVENT_TITLES);

export const titleOf = (type) => EVENT_TITLES[type] || humanize(type);

/** An http(s) URL as a URL object, anything else null. */
export function safeUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

function duration(seconds) {
  const s = Number(seconds);
  if (!Number.isFinite(s)) return "";
  const m = Math.floor(s / 60);
  return m ? `${m} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`;
}

/** "Q4 push · Step 2 of 3" for an event's campaign, or null. */
export function campaignLine(campaign) {
  if (!campaign || typeof campaign !== "object") return null;
  const name = campaign.name || campaign.id || "Campaign";
  const step = campaign.step ? `Step ${campaign.step}${campaign.total_steps ? ` of ${campaign.total_steps}` : ""}` : "";
  return h("p", {class: "muted campaign-line"}, [`Campaign: ${name}`, step].filter(Boolean).join(" · "));
}

/** The lines an outreach event's data shows (call, message, other events, follow-ups), or null. */
export function eventDetails(item) {
  const d = item.data || {};
  const parts = [];
  if (item.type === "call") {
    parts.push(h("p", {class: "call-line"}, [
      d.direction ? humanize(d.direction) : null,
      d.outcome ? `Outcome: ${humanize(d.outcome)}` : null,
      d.duration_s !== undefined && d.duration_s !== null ? `Duration: ${duration(d.duration_s)}` : null,
      d.callback_at ? `Call back: ${formatDate(d.callback_at)}` : null,
    ].filter(Boolean).join(" · ")));
    const url = safeUrl(d.recording_url);
    if (url) {
      parts.push(h("p", {}, h("a", {href: url.href, target: "_blank", rel: "noopener noreferrer",
                                    class: "recording-link"}, "Listen to the recording")));
    } else if (d.recording_url) {
      parts.push(h("p", {class: "muted"}, "Recording (not a web link): ", String(d.recording_url)));
    }
    if (d.transcript) {
      parts.push(h("details", {class: "transcript"}, h("summary", {}, "Transcript"),
        h("p", {class: "transcript-text"}, String(d.transcript))));
    } else if (d.has_transcript) {
      parts.push(h("p", {class: "muted"}, "Has a transcript (open the lead to read it)."));
    }
  } else if (item.type === "message") {
    parts.push(h("p", {class: "muted"}, [d.channel ? humanize(d.channel) : null,
      d.direction ? humanize(d.direction) : null].filter(Boolean).join(" · ") || null));
    if (d.text) parts.push(h("p", {class: "message-text"}, String(d.text)));
  } else if (item.type.startsWith("follow_up.")) {
    if (d.due_at) parts.push(h("p", {}, `Due ${formatDate(d.due_at)}`));
    if (d.note) parts.push(h("p", {class: "note-text"}, String(d.note)));
  } else if (item.type === "status_changed" && d.from !== undefined) {
    parts.push(h("p", {}, `${humanize(d.from || "none")} → ${humanize(d.to || "none")}`));
  } else if (d.text) {
    parts.push(h("p", {class: "message-text"}, String(d.text)));
  }
  const campaign = campaignLine(d.campaign);
  if (campaign) parts.push(campaign);
  const shown = parts.filter((p) => p && p.textContent !== "");
  return shown.length ? h("div", {class: "event-details"}, shown) : null;
}

export const OUTREACH_TYPES = new Set(["email_sent", "email_opened", "email_clicked", "replied",
  "bounced", "unsubscribed", "call", "message", "meeting_booked", "follow_up.created",
  "follow_up.cancelled", "follow_up.due"]);
