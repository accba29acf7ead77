// One row of the lead table: its selection box, name, company, job title,
// email with its verification badge, phone, status with the outreach lines,
// tags and last activity. A click or Enter on the row opens the lead.
import {badge, formatDate, h} from "./dom.js";
import {leadName} from "./lead-fields.js";
import {outreachLines} from "./lead-outreach.js";

function lastActivity(iso) {
  // Short in the cell (today: the time; else the date), in full on hover.
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return h("td", {}, "—");
  const today = date.toDateString() === new Date().toDateString();
  const text = today ? date.toLocaleTimeString([], {hour: "numeric", minute: "2-digit"})
    : date.toLocaleDateString([], {year: "numeric", month: "short", day: "numeric"});
  return h("td", {class: "nowrap"}, h("time", {datetime: iso, title: formatDate(iso)}, text));
}

/**
 * The row of `lead`: `checked`/`locked` set its box (locked while "all
 * matching" is selected), `open` marks the lead shown in the panel;
 * `onCheck(checked)` and `onOpen()` are called on a tick and an opening.
 */
export function leadRow(lead, {checked, locked, open, onCheck, onOpen}) {
  const name = leadName(lead);
  const box = h("input", {type: "checkbox", "aria-label": `Select ${name}`, checked, disabled: locked});
  box.addEventListener("change", () => onCheck(box.checked));
  const tr = h("tr", {tabindex: "0", class: open ? "lead-row open" : "lead-row",
                      dataset: {leadId: lead.id}, title: "Open the lead (Enter)"},
    h("td", {class: "check"}, box),
    h("th", {scope: "row"}, name),
    h("td", {}, lead.company || ""),
    h("td", {}, lead.job_title || ""),
    h("td", {class: "email"}, lead.email
      ? [h("span", {class: "email-text"}, lead.email), " ", badge(lead.email_status, "email")]
      : h("span", {class: "muted"}, "—")),
    h("td", {class: "nowrap"}, lead.phone || ""),
    h("td", {}, badge(lead.status, "status"), outreachLines(lead)),
    h("td", {}, (lead.tags || []).map((t) => h("span", {class: "tag"}, t))),
    lastActivity(lead.last_activity_at || lead.updated_at));
  tr.addEventListener("click", (event) => {
    if (event.target.closest("input, button, a, label")) return;
    onOpen();
  });
  tr.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target === tr) { event.preventDefault(); onOpen(); }
  });
  return tr;
}
