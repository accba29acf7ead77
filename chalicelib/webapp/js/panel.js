// The lead panel beside the table (on a phone it covers it): every field
// editable in place, "Save" sends only what changed and shows the API's
// per-field errors at the field; status and tags apply at once; the email's
// verification, the person's other lists ("Also in", with "Copy to list"),
// follow-ups and the activity timeline. Esc closes it and the table puts
// focus back on the lead's row.
import {ApiError, del, get, getAll, patch} from "./api.js";
import {badge, busy, confirmDialog, describeError, field, h, humanize, toast} from "./dom.js";
import {LEAD_STATUSES, clearFieldErrors, input, leadName, reasonText, showFieldErrors}
  from "./lead-fields.js";
import {activitySection} from "./lead-activity.js";
import {followUpsSection} from "./lead-followups.js";
import {alsoInSection} from "./lead-also-in.js";

const TEXT = [["first_name", "First name"], ["last_name", "Last name"], ["email", "Email"],
  ["phone", "Phone"], ["company", "Company"], ["job_title", "Job title"],
  ["linkedin_url", "LinkedIn URL"], ["location", "Location"]];
const LISTS = [["emails", "Other emails (one a line)"], ["phones", "Other phones (one a line)"]];
const NEW_KEY = "new_custom_key";
const NEW_VALUE = "new_custom_value";

const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

/**
 * What the form says that differs from `lead`: only those fields are sent.
 * Custom fields go as one object (the API replaces them whole), keeping the
 * typed values (numbers, booleans) of the ones not touched.
 */
export function changedFields(form, lead) {
  const out = {};
  const value = (name) => form.elements.namedItem(name).value;
  for (const [name] of TEXT) {
    const now = value(name).trim();
    if (now !== (lead[name] || "")) out[name] = now || null;
  }
  for (const [name] of LISTS) {
    const now = lines(value(name));
    if (now.join("\n") !== (lead[name] || []).join("\n")) out[name] = now;
  }
  if (value("notes") !== (lead.notes || "")) out.notes = value("notes").trim() ? value("notes") : null;
  const before = lead.custom_fields || {};
  const custom = {};
  let customChanged = false;
  for (const [key, old] of Object.entries(before)) {
    const now = value(`custom_fields.${key}`).trim();
    const oldText = old === null || old === undefined ? "" : String(old);
    if (now === oldText) custom[key] = old;
    else { customChanged = true; if (now) custom[key] = now; }
  }
  const newKey = value(NEW_KEY).trim();
  if (newKey) { customChanged = true; custom[newKey] = value(NEW_VALUE).trim(); }
  if (customChanged) out.custom_fields = custom;
  return out;
}

export function createPanel({listId, onSaved, onDeleted, onClose}) {
  const el = h("aside", {class: "lead-panel", hidden: true, "aria-label": "Lead details"});
  let lead = null;
  let openId = null;
  let controller = null;
  // The workspace's lists for "Copy to list": read once an opening, not at each re-render.
  let workspaceLists = null;
  const lists = () => {
    workspaceLists = workspaceLists || getAll("/lists").catch((err) => { workspaceLists = null; throw err; });
    return workspaceLists;
  };

  async function open(id) {
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    openId = id;
    workspaceLists = null;
    el.hidden = false;
    document.body.classList.add("panel-open");
    el.replaceChildren(h("p", {class: "loading", role: "status"}, "Loading the lead…"));
    try {
      lead = await get(base(id), {}, {signal: mine.signal});
    } catch (err) {
      if (err.name === "AbortError") return;
      el.replaceChildren(head("Lead"), h("p", {role: "alert"},
        err.status === 404 ? "This lead no longer exists." : describeError(err)));
      return;
    }
    if (mine !== controller) return;
    render();
  }

  function close() {
    if (!openId) return;
    const id = openId;
    if (controller) controller.abort();
    openId = null;
    lead = null;
    el.hidden = true;
    el.replaceChildren();
    document.body.classList.remove("panel-open");
    onClose(id);
  }

  function onKey(event) {
    // Esc closes the panel, unless a dialog on top of it takes that Esc.
    if (event.key !== "Escape" || !openId || document.querySelector("dialog[open]")) return;
    event.preventDefault();
    close();
  }
  document.addEventListener("keydown", onKey);

  const base = (id) => `/lists/${encodeURIComponent(listId)}/leads/${encodeURIComponent(id)}`;

  function head(title) {
    const closeButton = h("button", {type: "button", class: "ghost", "aria-label": "Close lead panel",
                                     onclick: close}, "×");
    return h("div", {class: "panel-head"}, h("h2", {tabindex: "-1"}, title), closeButton);
  }

  function render() {
    const activity = activitySection(base(lead.id));
    // A follow-up moves the lead's next_follow_up_at: the row follows.
    const followUps = followUpsSection(base(lead.id), {onChange: async () => {
      activity.reload();
      const fresh = await get(base(lead.id)).catch(() => null);
      if (fresh && lead && fresh.id === lead.id) { lead = fresh; onSaved(fresh); }
    }});
    const alsoIn = alsoInSection(listId, lead, {lists, onCopied: () => activity.reload()});
    el.replaceChildren(head(leadName(lead)), verification(), statusAndTags(), alsoIn.el,
      form(activity), followUps.el, activity.el);
    followUps.reload();
    alsoIn.reload();
    // The panel is sticky: focusing it must not scroll the table away.
    el.querySelector(".panel-head h2").focus({preventScroll: true});
    activity.reload();
  }

  function verification() {
    if (!lead.email) return h("p", {class: "muted"}, "No email to verify.");
    return h("div", {class: "panel-section verification-box"},
      h("span", {}, "Email verification: "), badge(lead.email_status, "email"),
      lead.email_status_reason ? h("p", {class: "muted reason"}, reasonText(lead.email_status_reason))
        : null);
  }

  function statusAndTags() {
    const status = h("select", {name: "status"}, LEAD_STATUSES.map((s) =>
      h("option", {value: s, selected: s === lead.status}, humanize(s))));
    status.addEventListener("change", () => quick(status, {status: status.value}, "Status saved."));
    const chips = (lead.tags || []).map((tag) => h("span", {class: "tag"}, tag,
      h("button", {type: "button", class: "ghost small", "aria-label": `Remove tag ${tag}`,
                   onclick: (event) => quick(event.currentTarget,
                     {tags: lead.tags.filter((t) => t !== tag)}, `Tag ${tag} removed.`)}, "×")));
    const newTag = h("input", {name: "new_tag", autocomplete: "off"});
    const addTag = h("button", {type: "submit", class: "small"}, "Add tag");
    const tagForm = h("form", {class: "tag-form"}, field("Add a tag", newTag), addTag);
    tagForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const tag = newTag.value.trim();
      if (!tag) { newTag.focus(); return; }
      quick(addTag, {tags: [...(lead.tags || []), tag]}, `Tag ${tag} added.`, tagForm);
    });
    return h("div", {class: "panel-section"}, field("Status", status),
      h("div", {class: "tags", "aria-label": "Tags"}, chips.length ? chips
        : h("span", {class: "muted"}, "No tags")), tagForm);
  }

  // Status and tags apply as soon as they are chosen (one field each).
  async function quick(control, body, message, errorForm) {
    try {
      const saved = await busy(control, () => patch(base(lead.id), body), {quiet: true});
      saved && accept(saved, message);
    } catch (err) {
      const fieldErrors = err instanceof ApiError ? err.fieldErrors : {};
      const text = Object.values(fieldErrors)[0] || describeError(err);
      if (errorForm) showFieldErrors(errorForm, {new_tag: text}); else toast(text, "error");
    }
  }

  function accept(saved, message) {
    lead = saved;
    onSaved(saved);
    render();
    toast(message);
  }

  function form(activity) {
    const controls = [
      ...TEXT.map(([name, label]) => field(label, input(name, lead[name],
        {type: name === "email" ? "email" : name === "linkedin_url" ? "url" : "text"}))),
      ...LISTS.map(([name, label]) => field(label, h("textarea", {name, rows: 2},
        (lead[name] || []).join("\n")))),
    ];
    const custom = Object.entries(lead.custom_fields || {}).map(([key, value]) =>
      field(key, input(`custom_fields.${key}`, value === null ? "" : String(value))));
    const save = h("button", {type: "submit", class: "primary"}, "Save");
    const problem = h("div", {class: "form-problem", role: "alert"});
    const f = h("form", {class: "lead-form", novalidate: true, "aria-label": "Lead fields"},
      controls,
      h("fieldset", {}, h("legend", {}, "Custom fields"),
        custom.length ? custom : h("p", {class: "muted"}, "No custom fields yet."),
        h("div", {class: "new-custom"}, field("New custom field name", input(NEW_KEY, "")),
          field("New custom field value", input(NEW_VALUE, "")))),
      field("Notes", h("textarea", {name: "notes", rows: 3}, lead.notes || "")),
      problem,
      h("div", {class: "actions"}, save, h("button", {type: "button", class: "ghost danger-text",
                                                       onclick: remove}, "Delete lead")));
    f.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFieldErrors(f);
      problem.replaceChildren();
      const changes = changedFields(f, lead);
      if (!Object.keys(changes).length) { toast("Nothing changed."); return; }
      try {
        const saved = await busy(save, () => patch(base(lead.id), changes), {quiet: true});
        accept(saved, "Lead saved.");
        activity.reload();
      } catch (err) {
        showSaveError(f, problem, err);
      }
    });
    return f;
  }

  function showSaveError(f, problem, err) {
    let errors = {};
    if (err instanceof ApiError && err.status === 400) errors = err.fieldErrors;
    if (err instanceof ApiError && err.status === 409 && err.details.identity) {
      errors = {[err.details.identity]: `${err.message} (lead ${err.details.lead_id}).`};
    }
    // A new custom field's error names its normalised key: show it at the new field.
    for (const key of Object.keys(errors)) {
      if (key.startsWith("custom_fields.") && !f.elements.namedItem(key)) {
        errors[NEW_VALUE] = `${key.slice(14)}: ${errors[key]}`;
        delete errors[key];
      }
    }
    if (!Object.keys(errors).length) { problem.replaceChildren(h("p", {}, describeError(err))); return; }
    const left = showFieldErrors(f, errors);
    const rest = Object.entries(left).map(([name, message]) => `${name}: ${message}`);
    problem.replaceChildren(h("p", {}, rest.length ? rest.join("; ")
      : "Nothing was saved: fix the highlighted fields, then save again."));
  }

  async function remove(event) {
    const ok = await confirmDialog(`Delete ${leadName(lead)}? This cannot be undone.`,
      {confirmLabel: "Delete lead", danger: true});
    if (!ok) return;
    try {
      await busy(event.target, () => del(base(lead.id)));
      toast("Lead deleted.");
      close();
      onDeleted();
    } catch { /* busy() said why */ }
  }

  return {
    el, open, close,
    leadId: () => openId,
    destroy() {
      document.removeEventListener("keydown", onKey);
      document.body.classList.remove("panel-open");
      if (controller) controller.abort();
    },
  };
}
