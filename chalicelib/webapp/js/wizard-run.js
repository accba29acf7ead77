// Wizard steps 5 and 6: the mode, the start, then the live progress, the
// summary, the error report and the verification breakdown (also shown for
// any import at #/imports/<id>).
import {ApiError, apiBlob, get, post} from "./api.js";
import {badge, busy, describeError, formatDate, formatNumber, h, humanize, saveBlob} from "./dom.js";
import {fieldLabel} from "./wizard-mapping.js";

const MODES = [
  ["skip", "Skip existing leads",
    "A row matching a lead already in the list is reported as a duplicate; the lead is not touched. Safest."],
  ["fill_empty", "Fill empty fields",
    "Existing leads keep everything they have and gain the row's values for fields they lack; a different email or phone is kept as an alternate."],
  ["overwrite", "Overwrite with the file's values",
    "Every non-empty cell replaces the lead's value (a mapped Status column sets the status). Empty cells change nothing."],
];
const FINISHED = new Set(["completed", "completed_with_errors", "failed"]);

export function stepMode(wiz) {
  const {state} = wiz;
  const options = MODES.map(([value, label, explain]) => {
    const id = `mode-${value}`;
    const radio = h("input", {type: "radio", name: "mode", id, value, checked: state.mode === value,
                              "aria-describedby": `${id}-hint`});
    radio.addEventListener("change", () => { if (radio.checked) state.mode = value; });
    return h("div", {class: "mode-option"}, radio,
      h("label", {for: id}, h("strong", {}, label), h("span", {id: `${id}-hint`, class: "hint"}, explain)));
  });
  return h("div", {},
    h("h2", {}, "5. What should a row do to a lead already in the list?"),
    h("fieldset", {class: "modes"}, h("legend", {}, "Import mode"), options),
    h("div", {class: "wizard-nav"}, h("button", {type: "button", onclick: () => wiz.go(3)}, "Back"),
      h("button", {type: "button", class: "primary", onclick: () => wiz.go(5)}, "Next")));
}

export function stepStart(wiz) {
  const {state} = wiz;
  const start = h("button", {type: "button", class: "primary big"}, "Start import");
  const problem = h("div", {class: "problem", role: "alert"});
  const mapped = Object.entries(state.mapping).filter(([, t]) => t);
  start.addEventListener("click", async () => {
    problem.replaceChildren();
    try {
      const job = await busy(start, () => post(`/imports/${encodeURIComponent(state.job.id)}/start`,
        {mapping: state.mapping, mode: state.mode}), {quiet: true});
      wiz.run(job);
    } catch (err) {
      const fieldErrors = err instanceof ApiError ? (err.details.errors || err.details.fields || []) : [];
      if (fieldErrors.length) {
        wiz.go(2, fieldErrors.map((e) => e.message)); // back to the mapping, with the server's words
        return;
      }
      problem.replaceChildren(h("strong", {}, "The import did not start: "), describeError(err));
    }
  });
  return h("div", {},
    h("h2", {}, "6. Start the import"),
    h("dl", {class: "recap"},
      h("div", {}, h("dt", {}, "List"), h("dd", {}, state.list ? state.list.name : "—")),
      h("div", {}, h("dt", {}, "File"), h("dd", {}, state.job.filename || "—")),
      h("div", {}, h("dt", {}, "Columns imported"), h("dd", {}, mapped.length
        ? mapped.map(([c, t]) => `${c} → ${fieldLabel(t)}`).join(" · ") : "none")),
      h("div", {}, h("dt", {}, "Mode"), h("dd", {}, MODES.find(([v]) => v === state.mode)[1]))),
    problem,
    h("div", {class: "wizard-nav"}, h("button", {type: "button", onclick: () => wiz.go(4)}, "Back"), start));
}

export function isActiveRun(job) { return !FINISHED.has(job.status); }

/** The live view of a started (or finished) import; polls until nothing is left to fill in. */
export function renderRun(wiz, job) {
  const {ctl} = wiz;
  const title = h("h2", {}, "Importing…");
  const status = h("p", {class: "run-status"});
  const bar = h("progress", {max: 100, value: 0, "aria-label": "Import progress"});
  const rate = h("p", {class: "muted", role: "status"});
  const summary = h("div", {class: "run-summary"});
  const verification = h("section", {class: "verification-box", "aria-label": "Email verification"});
  const links = h("div", {class: "actions"});
  const samples = []; // [time ms, processed rows] of successive polls, for rows/s and ETA

  function draw(current) {
    const finished = FINISHED.has(current.status);
    title.textContent = current.status === "failed" ? "The import failed"
      : finished ? "Import finished" : current.status === "ready" ? "Ready to start" : "Importing…";
    status.replaceChildren(badge(current.status, "import"), " ",
      current.started_at ? `Started ${formatDate(current.started_at)}` : "",
      current.finished_at ? ` · finished ${formatDate(current.finished_at)}` : "");
    bar.value = Math.max(0, Math.min(100, Number(current.progress) || 0));
    bar.hidden = current.status === "failed";
    const total = current.total_rows;
    const done = current.processed_rows || 0;
    if (!finished) {
      samples.push([Date.now(), done]);
      while (samples.length > 8) samples.shift();
      rate.textContent = progressText(done, total, samples);
    } else {
      const seconds = current.started_at && current.finished_at
        ? (new Date(current.finished_at) - new Date(current.started_at)) / 1000 : null;
      rate.textContent = `${formatNumber(done)} rows` + (seconds > 0
        ? ` in ${formatDuration(seconds)} (${formatNumber(Math.round(done / seconds))} rows/s)` : "");
    }
    const nodes = finished || done ? summaryNodes(current) : [];
    if (current.status === "failed") {
      const error = current.error || {};
      nodes.push(h("div", {class: "problem", role: "alert"},
        h("strong", {}, `${humanize(error.code || "failed")}: `), error.message || "The import could not finish.",
        h("p", {}, "Fix the file and import it again; rows already saved stay in the list.")));
    }
    summary.replaceChildren(...nodes);
    if (finished) drawVerification(current);
    drawLinks(current, finished);
  }

  function drawLinks(current, finished) {
    const listHref = `#/lists/${encodeURIComponent(current.list_id)}`;
    const parts = [h("a", {class: "button primary", href: listHref}, "Open the list's leads"),
      h("a", {class: "button", href: `${listHref}/imports`}, "Past imports of this list")];
    const rejected = (current.counts.invalid || 0) + (current.counts.duplicates || 0);
    if (finished && rejected > 0) {
      const download = h("button", {type: "button"}, "Download error report");
      download.addEventListener("click", () => busy(download, async () => {
        const blob = await apiBlob(`/imports/${encodeURIComponent(current.id)}/errors`);
        saveBlob(blob, `${current.id}-errors.csv`);
      }).catch(() => undefined));
      parts.splice(1, 0, download);
    }
    if (links.dataset.state !== `${finished}-${rejected}`) {
      links.dataset.state = `${finished}-${rejected}`;
      links.replaceChildren(...parts);
    }
  }

  function drawVerification(current) {
    const v = current.verification;
    if (!v) { verification.replaceChildren(); return; }
    const keys = [["valid", "Valid", "v-valid"], ["risky", "Risky", "v-risky"], ["invalid", "Invalid", "v-invalid"],
      ["unknown", "Unknown", "v-risky"], ["pending", "Pending", "v-pending"]];
    verification.replaceChildren(h("h3", {}, v.pending ? "Verifying emails…" : "Email verification"),
      h("ul", {class: "summary-counts"}, keys.map(([key, label, cls]) =>
        h("li", {class: cls, dataset: {key}}, h("strong", {}, formatNumber(v[key] || 0)), ` ${label}`))),
      ...(v.pending ? [h("p", {class: "muted"}, "Each new lead's email is being checked; this fills in by itself.")] : []));
  }

  (async () => {
    let current = job;
    for (;;) {
      draw(current);
      const finished = FINISHED.has(current.status);
      const verifying = current.verification && current.verification.pending > 0;
      if (finished && !verifying) return;
      await ctl.sleep(finished ? 2000 : 1000);
      try {
        current = await get(`/imports/${encodeURIComponent(current.id)}`);
      } catch (err) {
        if (ctl.stopped) return;
        rate.textContent = `${describeError(err)} Retrying…`;
      }
    }
  })().catch(() => undefined); // stopped on navigation

  return h("div", {}, title, status, bar, rate, summary, verification, links);
}

function summaryNodes(current) {
  const c = current.counts || {};
  const items = [["saved", "Saved", "v-valid"], ["updated", "Updated", "v-valid"], ["unchanged", "Unchanged", "v-pending"],
    ["duplicates", "Duplicates", "v-risky"], ["invalid", "Invalid", "v-invalid"]];
  return [h("ul", {class: "summary-counts big", "aria-label": "Import summary"}, items.map(([key, label, cls]) =>
    h("li", {class: cls, dataset: {count: key}}, h("strong", {}, formatNumber(c[key] || 0)), ` ${label}`)))];
}

function progressText(done, total, samples) {
  if (!total) return done ? `${formatNumber(done)} rows so far…` : "Reading the file…";
  let text = `${formatNumber(done)} of ${formatNumber(total)} rows`;
  if (samples.length > 1) {
    const [t0, r0] = samples[0];
    const [t1, r1] = samples[samples.length - 1];
    const perSecond = (r1 - r0) / Math.max(0.001, (t1 - t0) / 1000);
    if (perSecond > 0) {
      text += ` · ${formatNumber(Math.round(perSecond))} rows/s · about ${formatDuration((total - done) / perSecond)} left`;
    }
  }
  return text;
}

function formatDuration(seconds) {
  if (seconds < 1) return "less than a second";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
