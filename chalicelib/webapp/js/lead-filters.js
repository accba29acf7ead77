// The lead table's search box and filter bar, and the filters as the hash
// query holds them (#/lists/<id>?q=acme&status=new&lead=<id>).
import {field, h, humanize} from "./dom.js";
import {EMAIL_STATUSES, LEAD_STATUSES} from "./lead-fields.js";

const TEXT_FILTERS = [["tag", "Tag"], ["company", "Company"], ["job_title", "Job title"],
  ["location", "Location"], ["campaign", "Campaign"]];

/** The filters of a hash query: every non-empty parameter but the open lead. */
export function filtersFrom(query) {
  const out = {};
  for (const [key, value] of query.entries()) {
    if (key !== "lead" && value) out[key] = value;
  }
  return out;
}

export const sameFilters = (a, b) => JSON.stringify(Object.entries(a).sort()) ===
  JSON.stringify(Object.entries(b).sort());

/**
 * The search box and the filter bar of `list` showing `filters`: `controls`
 * maps each filter's key to its control, `read()` gives the filters they say.
 */
export function createFilterBar(list, filters) {
  const controls = {};
  const search = h("input", {type: "search", "aria-label": "Search leads", class: "lead-search",
                             placeholder: "Search name, company, email, phone…",
                             value: filters.q || "", autocomplete: "off"});
  controls.q = search;
  const selectFilter = (key, label, values) => {
    controls[key] = h("select", {name: key},
      h("option", {value: ""}, "Any"),
      values.map((v) => h("option", {value: v, selected: filters[key] === v}, humanize(v))));
    return field(label, controls[key]);
  };
  const textFilter = (key, label) => {
    controls[key] = h("input", {name: key, value: filters[key] || "", autocomplete: "off"});
    return field(label, controls[key]);
  };
  const custom = (list.filterable_fields || []).filter((f) => f.status === "ready");
  const clearButton = h("button", {type: "button", class: "ghost"}, "Clear filters");
  const filterBar = h("div", {class: "lead-filters", role: "search", "aria-label": "Filter leads"},
    selectFilter("status", "Status", LEAD_STATUSES),
    selectFilter("email_status", "Email status", EMAIL_STATUSES),
    TEXT_FILTERS.map(([key, label]) => textFilter(key, label)),
    custom.map((f) => textFilter(`cf.${f.key}`, humanize(f.key))),
    h("div", {class: "field"}, clearButton));

  function read() {
    const out = {};
    for (const [key, control] of Object.entries(controls)) {
      const value = control.value.trim();
      if (value) out[key] = value;
    }
    return out;
  }
  return {search, filterBar, clearButton, controls, read};
}
