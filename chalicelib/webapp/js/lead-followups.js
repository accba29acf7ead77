// The "Follow-ups" section of the lead panel: the lead's open and due
// follow-ups by due time, adding one (due date-time and a note) and
// cancelling one, with the API's errors at the field or in a toast.
import {ApiError, del, get, post} from "./api.js";
import {badge, busy, describeError, field, formatDate, h, toast} from "./dom.js";

/** "2026-11-27T15:00" (a datetime-local value, the browser's time zone) → ISO 8601 with offset. */
export function localToIso(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function followUpsSection(base, {onChange} = {}) {
  const list = h("ul", {class: "follow-ups", "aria-label": "Open follow-ups"});
  const due = h("input", {type: "datetime-local", name: "due_at", required: true});
  const note = h("input", {name: "note", maxlength: 2000, autocomplete: "off"});
  const dueError = h("p", {class: "field-error", id: `fu-due-err-${Math.random().toString(36).slice(2, 8)}`,
                           hidden: true});
  const add = h("button", {type: "submit", class: "small"}, "Add follow-up");
  const form = h("form", {class: "follow-up-form"},
    field("Follow-up due", due), dueError, field("Follow-up note", note), add);

  function showDueError(message) {
    dueError.textContent = message || "";
    dueError.hidden = !message;
    if (message) {
      due.setAttribute("aria-invalid", "true");
      due.setAttribute("aria-describedby", dueError.id);
    } else {
      due.removeAttribute("aria-invalid");
      due.removeAttribute("aria-describedby");
    }
  }

  function item(fu) {
    const cancel = h("button", {type: "button", class: "ghost small danger-text",
                                "aria-label": `Cancel the follow-up due ${formatDate(fu.due_at)}`},
      "Cancel");
    cancel.addEventListener("click", async () => {
      try {
        await busy(cancel, () => del(`${base}/follow-ups/${encodeURIComponent(fu.id)}`), {quiet: true});
        toast("Follow-up cancelled.");
      } catch (err) {
        toast(err instanceof ApiError && err.status === 409
          ? "This follow-up is no longer pending (already cancelled); the list is refreshed."
          : `${describeError(err)} The follow-up was not cancelled.`, "error");
      }
      await load();
      if (onChange) onChange();
    });
    return h("li", {class: "follow-up", dataset: {followUpId: fu.id}},
      h("div", {}, h("time", {datetime: fu.due_at}, formatDate(fu.due_at)), " ", badge(fu.status, "status"),
        fu.note ? h("p", {class: "note-text"}, fu.note) : null),
      cancel);
  }

  async function load() {
    try {
      const answer = await get(`${base}/follow-ups`);
      const pending = answer.items.filter((fu) => fu.status === "open" || fu.status === "due");
      list.replaceChildren(...(pending.length ? pending.map(item)
        : [h("li", {class: "muted"}, "No follow-up planned.")]));
    } catch (err) {
      list.replaceChildren(h("li", {class: "field-error"}, `${describeError(err)} Reopen the lead to try again.`));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showDueError(null);
    const dueAt = localToIso(due.value);
    if (!dueAt) { showDueError("Pick the date and time the follow-up is due."); due.focus(); return; }
    try {
      await busy(add, () => post(`${base}/follow-ups`, {due_at: dueAt, note: note.value.trim() || undefined}),
        {quiet: true});
      due.value = "";
      note.value = "";
      toast("Follow-up added.");
      await load();
      if (onChange) onChange();
    } catch (err) {
      const fields = err instanceof ApiError ? err.fieldErrors : {};
      if (fields.due_at) showDueError(fields.due_at);
      else toast(fields.note ? `Note: ${fields.note}` : describeError(err), "error");
    }
  });

  const el = h("section", {class: "panel-section", "aria-label": "Follow-ups"},
    h("h3", {}, "Follow-ups"), list, form);
  return {el, reload: load};
}
