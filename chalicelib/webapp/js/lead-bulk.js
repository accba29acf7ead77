// Bulk actions on the selected leads (by ids) or on every lead matching the
// filter ("Select all N matching", by filter), and the CSV export job.
import {get, post} from "./api.js";
import {busy, confirmDialog, download, formatNumber, h, humanize, toast} from "./dom.js";
import {LEAD_STATUSES} from "./lead-fields.js";

/**
 * The bar above the table. `selection()` says what is selected right now:
 * {ids, allMatching, filter, size}; `onDone` refreshes the table.
 */
export function createBulkBar({listId, selection, onDone}) {
  const label = h("strong", {class: "bulk-count"});
  const status = h("select", {"aria-label": "New status for the selected leads"},
    LEAD_STATUSES.map((s) => h("option", {value: s}, humanize(s))));
  const setStatus = h("button", {type: "button"}, "Set status");
  const tags = h("input", {"aria-label": "Tags (comma-separated)", placeholder: "tag, other tag",
                           autocomplete: "off"});
  const addTags = h("button", {type: "button"}, "Add tags");
  const removeTags = h("button", {type: "button"}, "Remove tags");
  const remove = h("button", {type: "button", class: "danger"}, "Delete");
  const el = h("section", {class: "bulk-bar", "aria-label": "Bulk actions", hidden: true},
    label,
    h("span", {class: "bulk-group"}, status, setStatus),
    h("span", {class: "bulk-group"}, tags, addTags, removeTags),
    remove);

  const buttons = [setStatus, addTags, removeTags, remove];
  function tagList() {
    const list = tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    if (!list.length) {
      toast("Type one or more tags first (separate them with commas).", "error");
      tags.focus();
    }
    return list;
  }

  async function run(button, action, extra, verb) {
    const sel = selection();
    const body = {action, ...extra};
    if (sel.allMatching) body.filter = sel.filter; else body.lead_ids = sel.ids;
    // Every button stays disabled while one action runs: no two at once.
    buttons.forEach((b) => { if (b !== button) b.disabled = true; });
    try {
      const result = await busy(button, () => post(`/lists/${encodeURIComponent(listId)}/leads/bulk`, body));
      const n = formatNumber(result.affected);
      const noun = result.affected === 1 ? "lead" : "leads";
      toast(result.complete ? `${n} ${noun} ${verb}.`
        : `${n} ${noun} ${verb} so far; the rest continues in the background.`);
      if (action !== "set_status") tags.value = "";
      onDone();
    } catch { /* busy() said what went wrong */ } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  setStatus.addEventListener("click", () =>
    run(setStatus, "set_status", {status: status.value}, "updated"));
  addTags.addEventListener("click", () => {
    const list = tagList();
    if (list.length) run(addTags, "add_tags", {tags: list}, "updated");
  });
  removeTags.addEventListener("click", () => {
    const list = tagList();
    if (list.length) run(removeTags, "remove_tags", {tags: list}, "updated");
  });
  remove.addEventListener("click", async () => {
    const sel = selection();
    const what = sel.size === null ? "every matching lead (more than 50,000)"
      : `${formatNumber(sel.size)} ${sel.size === 1 ? "lead" : "leads"}`;
    const ok = await confirmDialog(`Delete ${what}? This cannot be undone.`,
      {confirmLabel: "Delete leads", danger: true});
    if (ok) await run(remove, "delete", {}, "deleted");
  });

  return {
    el,
    /** Show the bar for `size` selected leads (null: "more than 50,000"). */
    update(size, allMatching) {
      el.hidden = !allMatching && !size;
      label.textContent = size === null ? "All matching leads selected"
        : `${formatNumber(size)} selected`;
    },
  };
}

/**
 * Export the leads matching `filter` as CSV through the export job: progress in
 * `statusEl`, then the file through its presigned link. `stopped()` is true
 * once the person left the screen (polling ends).
 */
export async function exportCsv(listId, filter, button, statusEl, stopped) {
  try {
    await busy(button, async () => {
      let job = await post(`/lists/${encodeURIComponent(listId)}/exports`, {filter, format: "csv"});
      statusEl.textContent = "Exporting…";
      while (job.status === "running") {
        await new Promise((resolve) => setTimeout(resolve, 700));
        if (stopped()) return;
        job = await get(`/exports/${encodeURIComponent(job.id)}`);
        statusEl.textContent = job.converted_rows
          ? `Exporting… ${formatNumber(job.converted_rows)} of ${formatNumber(job.rows)} rows written`
          : `Exporting… ${formatNumber(job.rows)} rows read`;
      }
      if (job.status !== "completed") {
        throw new Error((job.error && job.error.message) || "The export failed; try again.");
      }
      statusEl.textContent = `Exported ${formatNumber(job.rows)} rows.`;
      download(job.download_url);
    });
  } catch {
    statusEl.textContent = ""; // busy() showed what went wrong
  }
}
