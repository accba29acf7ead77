// The Activity screen (#/activity): the workspace's feed (GET /activity),
// newest first — outreach events, the status changes they caused and
// follow-ups — with a type filter and "Load more".
import {get} from "./api.js";
import {busy, describeError, field, formatDate, h, mount, routeGuard} from "./dom.js";
import {ACTIVITY_TYPES, eventDetails, titleOf} from "./event-details.js";
import {leadName} from "./lead-fields.js";

const PAGE = 25;

export async function renderActivity(query = new URLSearchParams()) {
  const current = routeGuard();
  const type = query.get("type") || "";
  const select = h("select", {name: "type"},
    h("option", {value: "", selected: !type}, "All types"),
    ACTIVITY_TYPES.map((t) => h("option", {value: t, selected: t === type}, titleOf(t))));
  select.addEventListener("change", () => {
    location.hash = select.value ? `#/activity?type=${encodeURIComponent(select.value)}` : "#/activity";
  });
  const items = h("ol", {class: "feed", "aria-label": "Activity, newest first"});
  const more = h("button", {type: "button", hidden: true}, "Load more");
  const status = h("p", {class: "muted", role: "status"}, "Loading the activity…");
  mount(h("div", {class: "page-head"}, h("h1", {}, "Activity"),
      h("div", {class: "actions feed-filters"}, field("Type", select))),
    status, items, h("div", {class: "actions feed-more"}, more));

  const names = new Map();
  let cursor = null;
  let stopped = false;

  async function load() {
    const page = await get("/activity", {types: type || undefined, limit: PAGE, cursor});
    if (stopped || !current()) return;
    items.append(...page.items.map(entry));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    const shown = items.children.length;
    status.textContent = shown ? "" : cursor
      ? "Nothing found yet in the newest days; load more to look further back."
      : type ? `No ${titleOf(type).toLowerCase()} activity in the last 30 days. Pick another type.`
        : "No activity in the last 30 days. Events your outreach tools send (POST /events) show here.";
    status.className = shown ? "muted" : "empty card";
    fillNames(page.items);
  }

  function entry(item) {
    const href = `#/lists/${encodeURIComponent(item.list_id)}?lead=${encodeURIComponent(item.lead_id)}`;
    const link = h("a", {href, class: "lead-link", dataset: {leadId: item.lead_id}}, "Lead");
    return h("li", {class: `card feed-entry activity-${item.type.replace(".", "-")}`,
                    dataset: {activityId: item.id}},
      h("div", {class: "activity-head"}, h("strong", {class: "feed-type"}, titleOf(item.type)),
        link, h("time", {datetime: item.at, class: "muted"}, formatDate(item.at))),
      eventDetails(item));
  }

  // Entries carry ids only: the leads' names come after, one read per lead.
  async function fillNames(page) {
    const wanted = new Map();
    for (const item of page) wanted.set(item.lead_id, item.list_id);
    for (const [leadId, listId] of wanted) {
      if (stopped) return;
      if (!names.has(leadId)) {
        names.set(leadId, get(`/lists/${encodeURIComponent(listId)}/leads/${encodeURIComponent(leadId)}`)
          .then((lead) => leadName(lead), () => "Lead (deleted or not found)"));
      }
      const name = await names.get(leadId);
      for (const a of items.querySelectorAll("a.lead-link")) {
        if (a.dataset.leadId === leadId) a.textContent = name;
      }
    }
  }

  more.addEventListener("click", () => busy(more, load).catch(() => undefined));
  try {
    await load();
  } catch (err) {
    if (!current()) return undefined;
    status.className = "field-error";
    status.textContent = `${describeError(err)} Reload the page to try again.`;
  }
  return () => { stopped = true; };
}
