// A lead's timeline, newest first (GET .../activity), and adding a note.
import {ApiError, get, post} from "./api.js";
import {badge, busy, describeError, field, formatDate, h, humanize, toast} from "./dom.js";
import {reasonText} from "./lead-fields.js";
import {EVENT_TITLES, OUTREACH_TYPES, eventDetails} from "./event-details.js";

const TITLES = {
  ...EVENT_TITLES,
  created: "Created", imported: "Imported", edited: "Edited", status_changed: "Status changed",
  note_added: "Note", tags_changed: "Tags changed", verified: "Email verified",
  updated_by_import: "Updated by an import", copied_to: "Copied to another list",
  copied_from: "Copied from another list",
};

const label = (name) => humanize(name.replace("linkedin_url", "LinkedIn URL"));

function show(value) {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "(empty)";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function details(item) {
  const d = item.data || {};
  if (OUTREACH_TYPES.has(item.type)) return eventDetails(item);
  switch (item.type) {
    case "edited":
      return h("ul", {class: "changes"}, Object.entries(d.changes || {}).map(([name, c]) =>
        h("li", {}, `${label(name)}: ${show(c.from)} → ${show(c.to)}`)));
    case "status_changed":
      return h("p", {}, badge(d.from, "status"), " → ", badge(d.to, "status"),
        d.event_ids && d.event_ids.length ? h("span", {class: "muted"}, " by an outreach event") : null);
    case "tags_changed":
      return h("p", {}, [d.added && d.added.length ? `Added ${d.added.join(", ")}` : "",
        d.removed && d.removed.length ? `Removed ${d.removed.join(", ")}` : ""]
        .filter(Boolean).join("; "));
    case "note_added":
      return h("p", {class: "note-text"}, d.text || "");
    case "verified":
      return h("p", {}, d.email ? `${d.email} ` : "", badge(d.email_status, "email"),
        d.reason ? ` ${reasonText(d.reason)}` : "");
    case "imported":
    case "updated_by_import":
      return h("p", {}, [d.filename, d.row ? `row ${d.row}` : ""].filter(Boolean).join(", "));
    case "copied_to":
    case "copied_from":
      return d.list_id && d.lead_id ? h("p", {}, h("a", {href: `#/lists/${encodeURIComponent(d.list_id)}` +
        `?lead=${encodeURIComponent(d.lead_id)}`}, item.type === "copied_to" ? "Open the copy" : "Open the original"))
        : null;
    case "created":
      return d.source ? h("p", {class: "muted"}, `From ${d.source === "api" ? "the app or API" : d.source}`) : null;
    default:
      return null;
  }
}

function entry(item) {
  return h("li", {class: `activity activity-${item.type.replace(".", "-")}`},
    h("div", {class: "activity-head"}, h("strong", {}, TITLES[item.type] || humanize(item.type)),
      h("time", {datetime: item.at, class: "muted"}, formatDate(item.at))),
    details(item));
}

/** The "Activity" section of the panel for one lead. */
export function activitySection(base) {
  const items = h("ol", {class: "timeline", "aria-label": "Activity, newest first"});
  const more = h("button", {type: "button", class: "ghost small", hidden: true}, "Show older");
  const note = h("textarea", {name: "text", rows: 2, maxlength: 5000});
  const addNote = h("button", {type: "submit"}, "Add note");
  const form = h("form", {class: "note-form"}, field("New note", note), addNote);
  let cursor = null;

  async function load(reset) {
    if (reset) { cursor = null; items.replaceChildren(h("li", {class: "muted"}, "Loading…")); }
    try {
      const page = await get(`${base}/activity`, {limit: 20, cursor});
      if (reset) items.replaceChildren();
      items.append(...page.items.map(entry));
      if (reset && !page.items.length) items.append(h("li", {class: "muted"}, "Nothing yet."));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      items.replaceChildren(h("li", {class: "field-error"}, describeError(err)));
    }
  }
  more.addEventListener("click", () => busy(more, () => load(false)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!note.value.trim()) { note.focus(); return; }
    try {
      await busy(addNote, () => post(`${base}/notes`, {text: note.value}), {quiet: true});
      note.value = "";
      toast("Note added.");
      await load(true);
    } catch (err) {
      toast(err instanceof ApiError && err.fieldErrors.text ? err.fieldErrors.text
        : describeError(err), "error");
    }
  });
  const el = h("section", {class: "panel-section", "aria-label": "Activity"},
    h("h3", {}, "Activity"), form, items, more);
  return {el, reload: () => load(true)};
}
