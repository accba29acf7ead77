// The "Also in" section of the lead panel: the person's other leads in the
// workspace (GET /people by the lead's email, else phone, else LinkedIn URL),
// each its list's name linking to that lead opened in its list, with its
// status and last activity; and "Copy to list" (POST .../copy), whose refusals
// (already there, suppressed, missing identity) are said in words.
import {ApiError, get, post} from "./api.js";
import {badge, busy, describeError, field, formatDate, h, humanize, toast} from "./dom.js";

const PERSON_KEYS = [["email", "email"], ["phone", "phone"], ["linkedin_url", "LinkedIn URL"]];

/** The one value GET /people finds this lead's person by: {email} else {phone} else {linkedin_url}. */
export function personQuery(lead) {
  const found = PERSON_KEYS.find(([key]) => lead[key]);
  return found ? {[found[0]]: lead[found[0]]} : null;
}

const leadHref = (listId, leadId) =>
  `#/lists/${encodeURIComponent(listId)}?lead=${encodeURIComponent(leadId)}`;

function entry(person) {
  const when = person.last_activity_at;
  return h("li", {dataset: {listId: person.list_id, leadId: person.lead_id}},
    h("a", {href: leadHref(person.list_id, person.lead_id)}, person.list_name),
    badge(person.status, "status"),
    when ? h("time", {datetime: when, class: "muted"}, `Last activity ${formatDate(when)}`)
      : h("span", {class: "muted"}, "No activity yet"));
}

/** Why a copy was refused, in words (with a link to the lead already there). */
function copyProblem(err, listName, listId) {
  if (!(err instanceof ApiError)) return [describeError(err)];
  if (err.status === 409 && err.code === "duplicate") {
    const by = (PERSON_KEYS.find(([key]) => key === err.details.identity) || [])[1] || "identity";
    return [`Not copied: ${listName} already holds this person (same ${by}). `,
      err.details.lead_id ? h("a", {href: leadHref(listId, err.details.lead_id)}, "Open that lead") : null];
  }
  if (err.status === 409 && err.code === "suppressed") {
    return [`Not copied: this person is on the suppression list (reason: ` +
      `${humanize(err.details.reason || "manual")}), so they cannot be added to any list. `,
    h("a", {href: "#/suppressions"}, "See the suppressions")];
  }
  if (err.status === 400) {
    const message = Object.values(err.fieldErrors)[0] || err.message;
    return [`Not copied to ${listName}: ${message}.`];
  }
  if (err.status === 404) return [`Not copied: ${listName} no longer exists. Reopen the lead.`];
  return [`Not copied: ${describeError(err)}`];
}

/**
 * The section for `lead` of list `listId`; `lists()` resolves the workspace's
 * lists (read once a panel opening, shared by re-renders); `onCopied()` follows a copy
 * (the lead's timeline has a new entry).
 */
export function alsoInSection(listId, lead, {lists, onCopied}) {
  const items = h("ul", {class: "also-in", "aria-label": "Other lists of this person"},
    h("li", {class: "muted"}, "Loading…"));
  const target = h("select", {name: "target_list"}, h("option", {value: ""}, "Loading lists…"));
  const copy = h("button", {type: "submit", class: "small"}, "Copy to list");
  const outcome = h("p", {class: "copy-outcome", role: "status"});
  const form = h("form", {class: "copy-form", "aria-label": "Copy to another list"},
    field("List to copy to", target), copy);
  // Copies made here: shown at once even if the people index is a moment behind.
  const made = [];
  const say = (parts, error = false) => {
    outcome.className = error ? "copy-outcome field-error" : "copy-outcome";
    outcome.replaceChildren(...parts.filter(Boolean));
  };

  async function load() {
    const by = personQuery(lead);
    if (!by) {
      items.replaceChildren(h("li", {class: "muted"},
        "No email, phone or LinkedIn URL to find this person by in other lists."));
      return;
    }
    try {
      const answer = await get("/people", by);
      const others = answer.items.filter((p) => p.lead_id !== lead.id);
      for (const copied of made) {
        if (!others.some((p) => p.lead_id === copied.lead_id)) others.push(copied);
      }
      items.replaceChildren(...(others.length ? others.map(entry)
        : [h("li", {class: "muted"}, "Not in any other list")]));
    } catch (err) {
      items.replaceChildren(h("li", {class: "field-error"}, `${describeError(err)} Reopen the lead to try again.`));
    }
  }

  async function fillTargets() {
    try {
      const others = (await lists()).filter((l) => l.id !== listId);
      target.replaceChildren(...(others.length
        ? [h("option", {value: ""}, "Choose a list"), ...others.map((l) => h("option", {value: l.id}, l.name))]
        : [h("option", {value: ""}, "No other list")]));
      copy.disabled = !others.length;
      if (!others.length) say(["Create another list on the Lists screen to copy this lead to it."]);
    } catch (err) {
      target.replaceChildren(h("option", {value: ""}, "Lists could not be loaded"));
      say([`${describeError(err)} Reopen the lead to try again.`], true);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say([]);
    if (!target.value) { say(["Choose the list to copy this lead to."], true); target.focus(); return; }
    const chosen = target.value;
    const name = target.selectedOptions[0].textContent;
    try {
      const copied = await busy(copy, () => post(
        `/lists/${encodeURIComponent(listId)}/leads/${encodeURIComponent(lead.id)}/copy`,
        {list_id: chosen}), {quiet: true});
      made.push({list_id: chosen, list_name: name, lead_id: copied.id, status: copied.status,
                 last_activity_at: copied.last_activity_at});
      say([`Copied to ${name}.`]);
      toast(`Lead copied to ${name}.`);
      if (onCopied) onCopied();
      await load();
    } catch (err) {
      say(copyProblem(err, name, chosen), true);
    }
  });

  const el = h("section", {class: "panel-section", "aria-label": "Also in"},
    h("h3", {}, "Also in"), items, form, outcome);
  return {el, reload: () => Promise.all([load(), fillTargets()])};
}
