// What outreach says about a lead, in its table row: the next follow-up and
// its campaigns (small text under the status).
import {formatDate, h} from "./dom.js";

function shortDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString([], {month: "short", day: "numeric", hour: "numeric", minute: "2-digit"});
}

/** The small lines under a row's status, or null when outreach has said nothing. */
export function outreachLines(lead) {
  const lines = [];
  if (lead.next_follow_up_at) {
    const overdue = new Date(lead.next_follow_up_at).getTime() <= Date.now();
    lines.push(h("small", {class: overdue ? "next-follow-up overdue" : "next-follow-up",
                           title: formatDate(lead.next_follow_up_at)},
      `${overdue ? "Follow-up overdue" : "Follow-up"}: `,
      h("time", {datetime: lead.next_follow_up_at}, shortDate(lead.next_follow_up_at))));
  }
  const campaigns = Object.entries(lead.campaigns || {})
    .sort(([, a], [, b]) => String(b.last_event_at || "").localeCompare(String(a.last_event_at || "")));
  if (campaigns.length) {
    const [id, c] = campaigns[0];
    const step = c.step ? ` · step ${c.step}${c.total_steps ? `/${c.total_steps}` : ""}` : "";
    const others = campaigns.length > 1 ? ` (+${campaigns.length - 1})` : "";
    lines.push(h("small", {class: "campaigns muted", title: campaigns.map(([k, v]) => v.name || k).join(", ")},
      `${c.name || id}${step}${others}`));
  }
  return lines.length ? h("span", {class: "outreach-lines"}, lines) : null;
}
