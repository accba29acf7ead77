// Wizard steps 3 and 4: the column mapping (a dropdown a column) and the
// preview of the first rows as they will be saved, with per-cell problems.
import {post} from "./api.js";
import {describeError, formatNumber, h, humanize, spinner} from "./dom.js";

export const FIELDS = [
  ["first_name", "First name"], ["last_name", "Last name"], ["full_name", "Full name"],
  ["email", "Email"], ["emails", "Other emails"], ["phone", "Phone"], ["phones", "Other phones"],
  ["company", "Company"], ["job_title", "Job title"], ["linkedin_url", "LinkedIn URL"],
  ["location", "Location"], ["notes", "Notes"], ["tags", "Tags"], ["status", "Status"],
];
const LABELS = Object.fromEntries(FIELDS);
// Fields that take any number of columns (the API's LIST_TARGETS).
const MANY = new Set(["emails", "phones", "tags"]);
const CUSTOM = "custom:";

export function fieldLabel(target) {
  if (!target) return "Ignored";
  if (target.startsWith(CUSTOM)) return `Custom: ${target.slice(CUSTOM.length)}`;
  return LABELS[target] || humanize(target);
}

/** Problems of a mapping the API would refuse: identity missing, two columns on one field. */
export function mappingProblems(mapping, identity) {
  const problems = [];
  const holders = {};
  for (const [column, target] of Object.entries(mapping)) {
    if (!target || MANY.has(target)) continue;
    (holders[target] = holders[target] || []).push(column);
  }
  if (!holders[identity]) {
    problems.push({target: identity, message: `Map a column to ${fieldLabel(identity)}: it identifies ` +
      `the leads of this list, so rows without it cannot be imported.`});
  }
  for (const [target, columns] of Object.entries(holders)) {
    if (columns.length > 1) {
      problems.push({target, columns, message: `${columns.map((c) => `"${c}"`).join(" and ")} are all ` +
        `mapped to ${fieldLabel(target)}, which takes one column: change or ignore all but one.`});
    }
  }
  return problems;
}

/** Sample values of each column: from the rows read here, else from the preview. */
function samplesOf(state) {
  const columns = (state.job.file && state.job.file.columns) || [];
  const out = Object.fromEntries(columns.map((c) => [c, []]));
  const rows = state.rows;
  if (rows && rows.length > 1 && rows[0].length === columns.length) {
    for (const row of rows.slice(1, 4)) columns.forEach((c, i) => { if (row[i]) out[c].push(row[i]); });
    return out;
  }
  for (const entry of (state.job.preview || []).slice(0, 3)) {
    if (!entry.lead) continue;
    for (const [column, target] of Object.entries(state.job.mapping || {})) {
      const value = leadValue(entry.lead, target);
      if (value !== "" && out[column]) out[column].push(value);
    }
  }
  return out;
}

export function leadValue(lead, target) {
  if (!lead || !target) return "";
  const value = target.startsWith(CUSTOM) ? (lead.custom_fields || {})[target.slice(CUSTOM.length)]
    : lead[target];
  if (value === null || value === undefined) return "";
  return Array.isArray(value) ? value.join(", ") : String(value);
}

export function stepMapping(wiz, apiErrors) {
  const {state} = wiz;
  const identity = state.list ? state.list.identity : "email";
  const info = state.job.file || {};
  const columns = info.columns || [];
  const samples = samplesOf(state);
  const problemBox = h("div", {class: "problem", role: "alert"});
  const next = h("button", {type: "button", class: "primary"}, "Next");
  const selects = {};

  const rows = columns.map((column) => {
    const current = state.mapping[column] || null;
    const select = h("select", {"aria-label": `Map column ${column}`, dataset: {column}},
      h("option", {value: "", selected: !current}, "Ignore"),
      h("optgroup", {label: "Lead fields"}, FIELDS.map(([value, label]) =>
        h("option", {value, selected: current === value},
          value === identity ? `${label} (identity)` : label))),
      h("option", {value: "custom", selected: Boolean(current && current.startsWith(CUSTOM))},
        current && current.startsWith(CUSTOM) ? `Custom field: ${current.slice(CUSTOM.length)}` : "Custom field"));
    selects[column] = select;
    select.addEventListener("change", () => {
      const chosen = select.value;
      if (chosen === "custom") {
        const detected = (state.job.mapping || {})[column];
        // The API normalises the key (lower case, underscores) from the column's name.
        state.mapping[column] = detected && detected.startsWith(CUSTOM) ? detected : `${CUSTOM}${column}`;
      } else {
        state.mapping[column] = chosen || null;
      }
      check();
    });
    return h("tr", {},
      h("th", {scope: "row"}, column),
      h("td", {class: "samples"}, samples[column] && samples[column].length
        ? samples[column].map((value) => h("span", {class: "sample"}, value))
        : h("span", {class: "muted"}, "No values in the first rows")),
      h("td", {}, select));
  });

  function check() {
    const problems = mappingProblems(state.mapping, identity);
    for (const select of Object.values(selects)) select.removeAttribute("aria-invalid");
    for (const p of problems) for (const c of p.columns || []) selects[c].setAttribute("aria-invalid", "true");
    const messages = [...problems.map((p) => p.message), ...(apiErrors || [])];
    apiErrors = null; // the server's complaint stands until the person changes something
    problemBox.replaceChildren(...(messages.length
      ? [h("strong", {}, "Fix the mapping before going on:"), h("ul", {}, messages.map((m) => h("li", {}, m)))]
      : []));
    next.disabled = problems.length > 0;
    return problems.length === 0;
  }
  next.addEventListener("click", () => { if (check()) wiz.go(3); });
  check();

  const mapped = Object.values(state.mapping).filter(Boolean).length;
  return h("div", {},
    h("h2", {}, "3. Match your columns to lead fields"),
    h("dl", {class: "detected"},
      h("div", {}, h("dt", {}, "File type"), h("dd", {}, String(info.kind || "—").toUpperCase())),
      h("div", {}, h("dt", {}, "Encoding"), h("dd", {}, info.encoding || "—")),
      h("div", {}, h("dt", {}, "Delimiter"), h("dd", {}, delimiterName(info.delimiter, info.kind))),
      h("div", {}, h("dt", {}, "Columns"), h("dd", {}, formatNumber(columns.length))),
      info.sheet ? h("div", {}, h("dt", {}, "Sheet"), h("dd", {}, info.sheet)) : null),
    h("p", {class: "muted"}, `${formatNumber(mapped)} of ${formatNumber(columns.length)} columns are mapped. ` +
      `This list identifies leads by ${fieldLabel(identity)}: one column must be mapped to it.`),
    h("div", {class: "table-wrap"}, h("table", {class: "grid mapping"},
      h("caption", {class: "sr-only"}, "Column mapping"),
      h("thead", {}, h("tr", {}, ["Column in your file", "Sample values", "Lead field"].map((t) =>
        h("th", {scope: "col"}, t)))),
      h("tbody", {}, rows))),
    problemBox,
    h("div", {class: "wizard-nav"}, h("button", {type: "button", onclick: () => wiz.go(1)}, "Back"), next));
}

function delimiterName(delimiter, kind) {
  if (!delimiter || !["csv", "tsv", "txt"].includes(kind)) return "— (not a text file)";
  return {",": "Comma (,)", ";": "Semicolon (;)", "\t": "Tab", "|": "Pipe (|)"}[delimiter] || delimiter;
}

export function stepPreview(wiz) {
  const {state} = wiz;
  const job = state.job;
  const detected = job.mapping || {};
  const changed = Object.keys(state.mapping).filter((c) => (state.mapping[c] || null) !== (detected[c] || null));
  const content = h("div", {});
  const nav = h("div", {class: "wizard-nav"}, h("button", {type: "button", onclick: () => wiz.go(2)}, "Back"),
    h("button", {type: "button", class: "primary", onclick: () => wiz.go(4)}, "Next"));
  if (!changed.length) {
    content.replaceChildren(...previewContent(wiz, detected, job.preview || [], job.sample_summary || {}));
  } else {
    // The person changed the mapping: the server converts the same sample again with it.
    content.replaceChildren(spinner("Previewing the first rows with your mapping…"));
    post(`/imports/${encodeURIComponent(job.id)}/preview`, {mapping: state.mapping}).then(
      (answer) => content.replaceChildren(
        h("p", {class: "notice"}, `With your mapping of ${changed.join(", ")}.`),
        ...previewContent(wiz, answer.mapping, answer.preview, answer.sample_summary)),
      (err) => content.replaceChildren(h("p", {class: "field-error", role: "alert"},
        `The preview could not be made: ${describeError(err)} Go back to the mapping and check it.`)));
  }
  return h("div", {},
    h("h2", {}, "4. Check the first rows"),
    h("p", {class: "muted"}, "The first 10 rows as they will be saved. Problems are marked in the cell they concern."),
    content, nav);
}

/** The preview table and the validation summary of one mapping. */
function previewContent(wiz, mapping, preview, summary) {
  const {state} = wiz;
  const job = state.job;
  const targets = [...new Set(Object.values(mapping).filter(Boolean))];
  const columnOf = Object.fromEntries(Object.entries(mapping).filter(([, t]) => t).map(([c, t]) => [t, c]));
  const columns = (job.file && job.file.columns) || [];
  const raw = state.rows && state.rows[0] && state.rows[0].length === columns.length ? state.rows : null;

  const identity = state.list ? state.list.identity : "email";
  const firstRowOf = {}; // identity value → the first preview row holding it (in-file duplicates)
  const body = preview.map((entry) => {
    const problems = {};
    for (const kind of ["errors", "warnings"]) {
      for (const p of entry[kind] || []) (problems[p.field] = problems[p.field] || []).push({kind, ...p});
    }
    const rawRow = raw ? raw[entry.row - 1] : null;
    const cells = targets.map((target) => {
      let value = leadValue(entry.lead, target);
      const found = problems[target] || [];
      // A rejected row has no lead, and a bad optional value is dropped: show what the file holds.
      if ((!entry.lead || (!value && found.length)) && rawRow) value = rawRow[columns.indexOf(columnOf[target])] || "";
      const worst = found.some((p) => p.kind === "errors") ? "error" : found.length ? "warning" : "";
      return h("td", {class: worst ? `cell-${worst}` : ""},
        value ? h("span", {}, value) : h("span", {class: "muted"}, "—"),
        found.map((p) => h("span", {class: `cell-problem ${p.kind === "errors" ? "error" : "warning"}`},
          `${p.kind === "errors" ? "Error" : "Warning"}: ${p.message}`)));
    });
    // Problems on fields no column shows (e.g. a row-level one) go in the last column.
    const elsewhere = Object.entries(problems).filter(([f]) => !targets.includes(f)).flatMap(([, ps]) => ps);
    const key = entry.lead ? leadValue(entry.lead, identity) : "";
    const earlier = key ? firstRowOf[key] : undefined;
    if (key && earlier === undefined) firstRowOf[key] = entry.row;
    const outcome = earlier !== undefined ? h("span", {class: "badge email-risky"}, `Duplicate of row ${earlier}`)
      : entry.lead
      ? (entry.warnings || []).length ? h("span", {class: "badge email-risky"}, "Saved with warnings")
        : h("span", {class: "badge email-valid"}, "Will be saved")
      : h("span", {class: "badge email-invalid"}, "Rejected");
    return h("tr", {class: entry.lead ? "" : "rejected-row"},
      h("th", {scope: "row", class: "num"}, String(entry.row)), h("td", {}, outcome,
        elsewhere.map((p) => h("span", {class: `cell-problem ${p.kind === "errors" ? "error" : "warning"}`}, p.message))),
      cells);
  });

  const codes = Object.entries(summary.errors_by_code || {});
  const mappingErrors = summary.mapping_errors || [];
  return [
    mappingErrors.length ? h("ul", {class: "field-error", role: "alert"},
      mappingErrors.map((e) => h("li", {}, e.message))) : null,
    h("div", {class: "table-wrap"}, h("table", {class: "grid preview"},
      h("caption", {class: "sr-only"}, "Preview of the first rows"),
      h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "Row"), h("th", {scope: "col"}, "Outcome"),
        targets.map((t) => h("th", {scope: "col"}, fieldLabel(t), h("span", {class: "from-column"}, columnOf[t]))))),
      h("tbody", {}, body.length ? body : h("tr", {}, h("td", {colspan: targets.length + 2}, "The file has no rows."))))),
    h("section", {class: "sample-summary", "aria-label": "Validation summary"},
      h("h3", {}, `Validation of the first ${formatNumber(summary.rows_sampled || 0)} rows`),
      h("ul", {class: "summary-counts"},
        count("Valid", summary.valid, "v-valid"), count("Invalid", summary.invalid, "v-invalid"),
        count("Duplicates in the file", summary.duplicates_in_sample, "v-pending"),
        count("With warnings", summary.with_warnings, "v-risky")),
      codes.length ? h("ul", {class: "codes"}, codes.map(([code, n]) =>
        h("li", {}, `${humanize(code)}: ${formatNumber(n)}`))) : null),
  ].filter(Boolean);
}

function count(label, n, cls) {
  return h("li", {class: cls}, h("strong", {}, formatNumber(n || 0)), ` ${label}`);
}
