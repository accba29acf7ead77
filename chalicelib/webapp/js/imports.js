// Past imports of a list, newest first, with their outcomes. Refreshes while
// one of them is still analysing or running.
import {apiBlob, get, getAll} from "./api.js";
import {badge, busy, describeError, formatDate, formatNumber, h, humanize, mount, routeGuard, saveBlob, spinner} from "./dom.js";
import {controller} from "./wizard.js";

const ACTIVE = new Set(["awaiting_upload", "analysing", "ready", "running"]);
const COUNTS = [["saved", "Saved"], ["updated", "Updated"], ["unchanged", "Unchanged"],
  ["duplicates", "Duplicates"], ["invalid", "Invalid"]];

export async function renderImports(listId) {
  mount(spinner("Loading the imports…"));
  const current = routeGuard();
  const ctl = controller();
  const lst = await get(`/lists/${encodeURIComponent(listId)}`);
  if (!current()) return undefined;
  const listHref = `#/lists/${encodeURIComponent(lst.id)}`;
  const tableBox = h("div", {});
  const note = h("p", {class: "muted", role: "status"});
  mount(h("div", {class: "page-head"},
    h("div", {}, h("h1", {}, "Imports"), h("p", {class: "muted wizard-context"}, "Into ",
      h("a", {href: listHref}, lst.name))),
    h("div", {class: "actions"}, h("a", {class: "button", href: listHref}, "Open the list's leads"),
      h("a", {class: "button primary", href: `${listHref}/import`}, "Import a file"))),
  tableBox, note);

  async function refresh() {
    const jobs = await getAll(`/lists/${encodeURIComponent(lst.id)}/imports`, {}, 500);
    tableBox.replaceChildren(jobs.length ? table(jobs) : empty(listHref));
    return jobs.some((job) => ACTIVE.has(job.status) && job.status !== "ready");
  }
  (async () => {
    for (let active = await refresh(); active; active = await refresh()) {
      note.textContent = "Imports under way: this page updates by itself.";
      await ctl.sleep(3000);
    }
    note.textContent = "";
  })().catch((err) => { if (!ctl.stopped) note.textContent = describeError(err); });
  return ctl.stop;
}

function empty(listHref) {
  return h("div", {class: "empty card"}, h("h2", {}, "No imports into this list yet"),
    h("p", {}, "Import a CSV, Excel or JSON file, or a Google Sheet, HubSpot or Salesforce from Sources. ",
      "Each import shows here with what happened to every row."),
    h("p", {}, h("a", {class: "button primary", href: `${listHref}/import`}, "Import a file"), " ",
      h("a", {class: "button", href: "#/sources"}, "Connect a source")));
}

/** "people.csv" for a file; "HubSpot sync" or "Google Sheet: name" for the others. */
export function sourceName(job) {
  const source = job.source;
  const type = source && typeof source === "object" ? source.type : source;
  const names = {hubspot: "HubSpot", salesforce: "Salesforce", google_sheets: "Google Sheet"};
  if (!type || type === "file") return job.filename || "File";
  return `${names[type] || humanize(type)}${source.sync_id ? " sync" : ""}${job.filename ? `: ${job.filename}` : ""}`;
}

function table(jobs) {
  return h("div", {class: "table-wrap"}, h("table", {class: "grid imports"},
    h("caption", {class: "sr-only"}, "Past imports, newest first"),
    h("thead", {}, h("tr", {}, ["File or source", "Status", "Started", "Finished", "Rows",
      ...COUNTS.map(([, label]) => label), "Actions"].map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, jobs.map(row))));
}

function row(job) {
  const name = sourceName(job);
  const c = job.counts || {};
  const rejected = (c.invalid || 0) + (c.duplicates || 0);
  const actions = [h("a", {href: `#/imports/${encodeURIComponent(job.id)}`, class: "button small",
    "aria-label": `Summary of ${name} (${formatDate(job.created_at)})`}, job.status === "ready" ? "Continue" : "Summary")];
  if (rejected > 0 && !ACTIVE.has(job.status)) {
    const download = h("button", {type: "button", class: "small",
      "aria-label": `Download error report of ${name}`}, "Download error report");
    download.addEventListener("click", () => busy(download, async () => {
      saveBlob(await apiBlob(`/imports/${encodeURIComponent(job.id)}/errors`), `${job.id}-errors.csv`);
    }).catch(() => undefined));
    actions.push(download);
  }
  const failed = job.status === "failed" && job.error
    ? h("span", {class: "cell-problem error"}, job.error.message || humanize(job.error.code)) : null;
  return h("tr", {dataset: {importId: job.id}},
    h("th", {scope: "row"}, name, h("span", {class: "from-column muted"}, `Created ${formatDate(job.created_at)}`)),
    h("td", {}, badge(job.status, "import"), failed),
    h("td", {}, formatDate(job.started_at)), h("td", {}, formatDate(job.finished_at)),
    h("td", {class: "num"}, formatNumber(job.total_rows)),
    COUNTS.map(([key]) => h("td", {class: "num", dataset: {count: key}}, formatNumber(c[key] || 0))),
    h("td", {class: "row-actions"}, actions));
}
