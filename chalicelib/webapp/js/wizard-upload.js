// Wizard steps 1 and 2: pick or create the list, then the file: uploaded
// straight to the file store with the presigned form, then analysed.
import {ApiError, apiBlob, del, get, getAll, post} from "./api.js";
import {busy, describeError, field, formatNumber, h, humanize, saveBlob} from "./dom.js";
import {createListDialog} from "./lists.js";
import {parseRows} from "./wizard-csv.js";

export function stepList(wiz) {
  const select = h("select", {name: "list"}, h("option", {value: ""}, "Loading your lists…"));
  const next = h("button", {type: "button", class: "primary"}, "Next");
  const create = h("button", {type: "button"}, "Create a new list");
  const problem = h("p", {class: "field-error", role: "alert"});
  let lists = [];
  getAll("/lists").then((found) => {
    lists = found;
    select.replaceChildren(h("option", {value: ""}, found.length ? "Choose a list…" : "No lists yet: create one"),
      ...found.map((lst) => h("option", {value: lst.id,
        selected: wiz.state.list && wiz.state.list.id === lst.id}, lst.name)));
  }).catch((err) => { problem.textContent = describeError(err); });
  create.addEventListener("click", async () => {
    const created = await createListDialog();
    if (!created) return;
    wiz.state.list = created;
    wiz.go(1);
  });
  next.addEventListener("click", () => {
    const chosen = lists.find((lst) => lst.id === select.value);
    if (!chosen) { problem.textContent = "Choose a list to import into, or create a new one."; select.focus(); return; }
    wiz.state.list = chosen;
    wiz.go(1);
  });
  return h("div", {},
    h("h2", {}, "1. Which list do the leads go into?"),
    field("List", select, "Leads with the same identity (email, phone or LinkedIn) as one already in the list are matched to it."),
    h("div", {class: "actions"}, create), problem,
    h("div", {class: "wizard-nav"}, h("a", {class: "button", href: "#/lists"}, "Cancel"), next));
}

export function stepFile(wiz) {
  const {state, ctl} = wiz;
  const input = h("input", {type: "file", class: "drop-input", "aria-label": "Choose a file to import",
    accept: ".csv,.tsv,.txt,.xlsx,.xls,.ods,.json,.jsonl,.ndjson"});
  const zone = h("label", {class: "drop-zone", dataset: {testid: "drop-zone"}},
    h("strong", {}, "Drag & drop your file here"),
    h("span", {}, "or click to choose one"),
    h("span", {class: "muted"}, "CSV, TSV, Excel (xlsx, xls), OpenDocument (ods), JSON or JSON Lines, up to 10 MB"),
    input);
  const chosen = h("p", {class: "file-chosen"});
  const bar = h("progress", {max: 100, value: 0, "aria-label": "Upload progress", hidden: true});
  const status = h("p", {class: "muted", role: "status"});
  const problem = h("div", {class: "problem", role: "alert"});
  const template = h("button", {type: "button", class: "ghost"}, "Download CSV template");
  let working = false;

  template.addEventListener("click", () => busy(template, async () => {
    saveBlob(await apiBlob("/imports/template.csv"), "leadpipe-template.csv");
  }).catch(() => undefined));
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) start(file);
  });
  input.addEventListener("change", () => { if (input.files[0]) start(input.files[0]); });

  async function start(file) {
    if (working) return; // one upload at a time: no double import
    working = true;
    input.disabled = true;
    zone.classList.add("busy");
    problem.replaceChildren();
    chosen.replaceChildren(h("strong", {}, file.name), ` · ${formatSize(file.size)}`);
    state.file = file;
    state.rows = null;
    // Another file instead of one analysed but never started: that import is dropped.
    const abandoned = state.job;
    if (abandoned && ["awaiting_upload", "ready"].includes(abandoned.status)) {
      del(`/imports/${encodeURIComponent(abandoned.id)}`).catch(() => undefined);
    }
    try {
      const created = await post(`/lists/${encodeURIComponent(state.list.id)}/imports`, {filename: file.name});
      state.job = created;
      wiz.refreshContext();
      if (created.max_bytes && file.size > created.max_bytes) {
        throw new Error(`This file is ${formatSize(file.size)}; the limit is ${formatSize(created.max_bytes)}. ` +
          "Split it into smaller files, or save it as CSV (smaller than Excel).");
      }
      status.textContent = "Uploading…";
      bar.hidden = false;
      await uploadFile(created.upload, file, (fraction) => { bar.value = Math.round(fraction * 100); });
      bar.value = 100;
      await waitForAnalysis(created.id);
    } catch (err) {
      if (ctl.stopped) return;
      showProblem(err);
    } finally {
      working = false;
      input.disabled = false;
      input.value = "";
      zone.classList.remove("busy");
    }
  }

  async function waitForAnalysis(importId) {
    status.textContent = "Analysing the file: format, columns, mapping and a preview…";
    for (;;) {
      const job = await get(`/imports/${encodeURIComponent(importId)}`);
      state.job = job;
      if (job.status === "ready") {
        state.mapping = {...job.mapping};
        if (state.file) state.rows = await readSample(state.file, job.file || {});
        wiz.go(2);
        return;
      }
      if (job.status === "failed") {
        const error = job.error || {};
        throw new ApiError(400, error.code || "failed", error.message || "The file could not be read.");
      }
      if (job.status !== "analysing" && job.status !== "awaiting_upload") { wiz.run(job); return; }
      await ctl.sleep(800);
    }
  }

  function showProblem(err) {
    bar.hidden = true;
    status.textContent = "";
    // A 400's own words are in its per-field errors (e.g. which file types are supported).
    const listed = err instanceof ApiError ? (err.details.errors || []).filter((e) => e && e.message) : [];
    const code = listed.length ? listed[0].code : err instanceof ApiError ? err.code : null;
    problem.replaceChildren(h("strong", {}, "This file cannot be imported", code ? ` (${humanize(code)})` : "", ": "),
      h("span", {}, listed.length ? listed.map((e) => e.message).join(" ") : describeError(err)),
      h("p", {}, "Choose another file, or download the CSV template and fill it in."));
  }

  // Coming back to an import being analysed (its link, or a Google Sheet just
  // sent from Sources): keep waiting for its analysis instead of asking for a file.
  const job = state.job;
  const fromSource = job && job.source && job.source !== "file";
  if (job && (job.status === "analysing" || (fromSource && job.status === "awaiting_upload"))) {
    chosen.replaceChildren(h("strong", {}, job.filename));
    waitForAnalysis(job.id).catch((err) => { if (!ctl.stopped) showProblem(err); });
    if (fromSource) {
      return h("div", {}, h("h2", {}, "2. Reading the source"), chosen, status, problem,
        h("div", {class: "wizard-nav"}, h("a", {class: "button", href: "#/sources"}, "Back to sources")));
    }
  }
  return h("div", {},
    h("h2", {}, "2. Choose the file"),
    zone, chosen, bar, status, problem,
    h("p", {class: "muted"}, "Not sure which columns to use? ", template),
    h("div", {class: "wizard-nav"},
      h("button", {type: "button", onclick: () => wiz.go(0)}, "Back")));
}

/** POST the file to the presigned form; XHR because fetch cannot report upload progress. */
function uploadFile(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(upload.fields)) form.append(key, value);
    form.append("file", file); // last: S3 ignores fields after the file
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new Error(`The file store refused the upload (HTTP ${xhr.status}). Try again; if it keeps failing, the file may be too large.`));
    });
    xhr.addEventListener("error", () => reject(new Error("The upload did not get through. Check your connection and try again.")));
    xhr.send(form);
  });
}

/** The first rows, read here for sample values (text files only; spreadsheets use the preview). */
async function readSample(file, info) {
  if (!["csv", "tsv", "txt"].includes(info.kind)) return null;
  try {
    return parseRows(await file.slice(0, 64 * 1024).arrayBuffer(), info.encoding, info.delimiter, 12);
  } catch {
    return null; // samples are a help; the preview still shows what will be saved
  }
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${formatNumber(bytes)} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

