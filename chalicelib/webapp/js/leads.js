// The lead table of a list: search as you type, filters, cursor pages, the
// matching count, selection (this page or everything matching) with bulk
// actions, export, add a lead, and the lead panel beside it. The filters live
// in the hash query (#/lists/<id>?q=acme&status=new&lead=<id>) so a reload
// shows the same thing.
import {get} from "./api.js";
import {countOf, describeError, formatNumber, h, mount, routeGuard, spinner} from "./dom.js";
import {createBulkBar, exportCsv} from "./lead-bulk.js";
import {addLeadDialog} from "./lead-add.js";
import {createFilterBar, filtersFrom, sameFilters} from "./lead-filters.js";
import {leadRow} from "./lead-row.js";
import {createPanel} from "./panel.js";
import {knownList} from "./lists.js";

const PAGE_SIZE = 50;

export async function renderLeadTable(listId, query = new URLSearchParams()) {
  mount(spinner("Loading the list…"));
  const current = routeGuard();
  const base = `/lists/${encodeURIComponent(listId)}`;
  // The first page is asked at once, beside the list's own details.
  const first = {controller: new AbortController()};
  first.promise = get(`${base}/leads`, {...filtersFrom(query), limit: PAGE_SIZE},
                      {signal: first.controller.signal});
  first.promise.catch(() => undefined); // load() reports its failure
  // Opened from the Lists screen, the list's details are known: the table
  // shows with them while they are read again for the header.
  const known = knownList(listId);
  const fresh = get(base);
  let list;
  try {
    list = known || await fresh;
  } catch (err) {
    first.controller.abort();
    throw err;
  }
  if (!current()) {
    first.controller.abort();
    return undefined;
  }
  const state = {filters: filtersFrom(query), cursors: [null], page: 0, items: [],
                 next: null, count: undefined, selected: new Set(), allMatching: false};
  let controller = null;
  let stopped = false;

  // ---- header, search and filters ---------------------------------------
  const addButton = h("button", {type: "button", class: "primary"}, "Add lead");
  const leadTotal = h("p", {class: "muted lead-total"}, countOf(list.lead_count, "lead", "leads"));
  const title = h("h1", {}, list.name);
  // The known details may be a little old (a rename elsewhere): the fresh ones win.
  fresh.then((latest) => { title.textContent = latest.name; }, () => undefined);
  const exportButton = h("button", {type: "button"}, "Export CSV");
  const exportStatus = h("span", {class: "muted", role: "status"});
  const header = h("div", {class: "page-head"},
    h("div", {}, title,
      leadTotal),
    h("div", {class: "actions"}, exportStatus, exportButton,
      h("a", {class: "button", href: `#/lists/${encodeURIComponent(listId)}/imports`},
        "Past imports"),
      h("a", {class: "button", href: `#/lists/${encodeURIComponent(listId)}/import`}, "Import"),
      addButton));

  const {search, filterBar, clearButton, controls, read: readControls} =
    createFilterBar(list, state.filters);

  // ---- summary, bulk bar, table, pager ----------------------------------
  const matchLine = h("span", {class: "match-count", role: "status", "aria-live": "polite"});
  const offer = h("span", {class: "select-offer"});
  const bulk = createBulkBar({
    listId,
    selection: () => ({ids: [...state.selected], allMatching: state.allMatching,
                       filter: {...state.filters}, size: selectionSize()}),
    // A bulk action may move or remove leads of any page: start again at the first.
    onDone: () => { clearSelection(); state.cursors = [null]; state.page = 0; load(); },
  });
  const selectAll = h("input", {type: "checkbox", "aria-label": "Select all on this page"});
  const tbody = h("tbody");
  const table = h("table", {class: "grid leads"},
    h("caption", {class: "sr-only"}, `Leads of ${list.name}`),
    h("thead", {}, h("tr", {}, h("th", {scope: "col", class: "check"}, selectAll),
      ["Name", "Company", "Job title", "Email", "Phone", "Status", "Tags", "Last activity"]
        .map((title) => h("th", {scope: "col"}, title)))),
    tbody);
  const tableWrap = h("div", {class: "table-wrap"}, table);
  const body = h("div", {class: "lead-body"});
  const prev = h("button", {type: "button"}, "Previous");
  const next = h("button", {type: "button"}, "Next");
  const pageLabel = h("span", {class: "muted"});
  const pager = h("nav", {class: "pager", "aria-label": "Pages"}, prev, pageLabel, next);
  const panel = createPanel({
    listId, list,
    onSaved: (lead) => {
      const i = state.items.findIndex((x) => x.id === lead.id);
      if (i >= 0) { state.items[i] = lead; renderRows(); }
    },
    onDeleted: () => load(),
    onClose: (leadId) => {
      writeHash(null);
      const row = tbody.querySelector(`tr[data-lead-id="${CSS.escape(leadId)}"]`);
      (row || search).focus();
    },
  });
  const layout = h("div", {class: "lead-layout"}, h("div", {class: "lead-main"}, body, pager),
    panel.el);
  mount(header, h("div", {class: "lead-toolbar"}, search, filterBar),
    h("div", {class: "lead-summary"}, matchLine, offer), bulk.el, layout);

  // ---- behaviour --------------------------------------------------------
  function writeHash(leadId = panel.leadId()) {
    const params = new URLSearchParams(state.filters);
    if (leadId) params.set("lead", leadId);
    const qs = params.toString();
    history.replaceState(null, "", `#/lists/${encodeURIComponent(listId)}${qs ? `?${qs}` : ""}`);
  }

  function applyFilters(filters) {
    if (sameFilters(filters, state.filters)) return;
    state.filters = filters;
    state.cursors = [null];
    state.page = 0;
    clearSelection();
    writeHash();
    load();
  }

  // Search as you type without a fixed wait: a keystroke asks at once unless a
  // page is on its way; then only the latest text is asked when it arrives.
  // A paste or a pause costs nothing, and a fast typist never piles requests
  // up on the server.
  let loading = false;
  let typedMeanwhile = false;
  const onType = () => {
    if (loading) { typedMeanwhile = true; return; }
    applyFilters(readControls());
  };
  for (const control of Object.values(controls)) {
    control.addEventListener(control.tagName === "SELECT" ? "change" : "input",
      control.tagName === "SELECT" ? () => applyFilters(readControls()) : onType);
  }
  clearButton.addEventListener("click", () => clearFilters());
  function clearFilters() {
    for (const control of Object.values(controls)) control.value = "";
    applyFilters({});
    search.focus();
  }

  prev.addEventListener("click", () => { if (state.page > 0) { state.page -= 1; turn(); } });
  next.addEventListener("click", () => {
    if (!state.next) return;
    state.cursors[state.page + 1] = state.next;
    state.page += 1;
    turn();
  });
  function turn() {
    // A page's selection is its own; "all matching" stays (it names the filter).
    if (!state.allMatching) state.selected.clear();
    load().then(() => tableWrap.scrollIntoView({block: "nearest"}));
  }

  selectAll.addEventListener("change", () => {
    state.allMatching = false;
    for (const lead of state.items) {
      if (selectAll.checked) state.selected.add(lead.id); else state.selected.delete(lead.id);
    }
    renderRows();
  });

  addButton.addEventListener("click", async () => {
    const result = await addLeadDialog(listId);
    if (!result) return;
    await load();
    if (result.open) panel.open(result.open);
    writeHash();
  });
  exportButton.addEventListener("click", () =>
    exportCsv(listId, {...state.filters}, exportButton, exportStatus, () => stopped));

  function clearSelection() {
    state.selected.clear();
    state.allMatching = false;
  }

  function selectionSize() {
    return state.allMatching ? (state.count ?? null) : state.selected.size;
  }

  const pageRequest = (signal) => get(`${base}/leads`,
    {...state.filters, limit: PAGE_SIZE, cursor: state.cursors[state.page]}, {signal});

  async function load(prefetched = null) {
    // Only the newest request may fill the table: an older, slower answer is
    // aborted rather than allowed to replace a newer one.
    if (controller) controller.abort();
    const mine = prefetched ? prefetched.controller : new AbortController();
    controller = mine;
    loading = true;
    tableWrap.setAttribute("aria-busy", "true");
    // "Select all on this page" waits for the page it would select.
    selectAll.disabled = true;
    if (state.page === 0) { state.count = undefined; renderCount(); }
    try {
      const page = await (prefetched ? prefetched.promise : pageRequest(mine.signal));
      if (mine !== controller) return;
      state.items = page.items;
      state.next = page.next_cursor;
      // A selection is of rows shown: ticks made on the rows being replaced go.
      const shown = new Set(page.items.map((lead) => lead.id));
      for (const id of state.selected) if (!shown.has(id)) state.selected.delete(id);
    } catch (err) {
      if (err.name === "AbortError" || mine !== controller) return;
      state.items = [];
      state.next = null;
      body.replaceChildren(h("div", {class: "empty card", role: "alert"},
        h("p", {}, `The leads could not be loaded: ${describeError(err)}`),
        h("button", {type: "button", onclick: () => load()}, "Try again")));
      return;
    } finally {
      if (mine === controller) {
        tableWrap.removeAttribute("aria-busy");
        selectAll.disabled = false;
        loading = false;
        if (typedMeanwhile) {
          typedMeanwhile = false;
          setTimeout(() => applyFilters(readControls()));
        }
      }
    }
    render();
    // The count is asked once the page is shown, not beside it: the embedded
    // AWS (and a busy table) serves one request at a time, and a count may
    // read many candidates. A first page without a next one is its own count.
    if (state.page === 0) {
      if (state.next) countMatches(mine);
      else showCount(state.items.length);
    }
  }

  async function countMatches(mine) {
    let answer;
    try {
      answer = await get(`${base}/leads`, {...state.filters, limit: 1, count: "true"},
                         {signal: mine.signal});
    } catch {
      return; // aborted by a newer search, or the page's own error says it
    }
    if (mine === controller) showCount(answer.count);
  }

  function showCount(count) {
    state.count = count;
    // Unfiltered, the count is the list's size: the header follows adds and deletes.
    if (!Object.keys(state.filters).length && count !== null) {
      leadTotal.textContent = countOf(count, "lead", "leads");
    }
    renderCount();
    renderRows();
  }

  function renderCount() {
    const filtered = Object.keys(state.filters).length > 0;
    if (state.count === null) matchLine.textContent = "More than 50,000 leads match";
    else if (state.count === undefined) matchLine.textContent = "Counting…";
    else {
      matchLine.textContent = `${formatNumber(state.count)} ${state.count === 1 ? "lead" : "leads"}` +
        (filtered ? ` ${state.count === 1 ? "matches" : "match"}` : "");
    }
  }

  function render() {
    const filtered = Object.keys(state.filters).length > 0;
    if (!state.items.length && state.page === 0) {
      body.replaceChildren(filtered ? emptyMatch() : emptyList());
      pager.hidden = true;
    } else {
      body.replaceChildren(tableWrap);
      pager.hidden = false;
    }
    prev.disabled = state.page === 0;
    next.disabled = !state.next;
    pageLabel.textContent = `Page ${state.page + 1}`;
    renderRows();
  }

  function emptyList() {
    return h("div", {class: "empty card"}, h("h2", {}, "No leads yet"),
      h("p", {}, "Import a file or add a lead to start."),
      h("p", {class: "actions center"},
        h("a", {class: "button primary", href: `#/lists/${encodeURIComponent(listId)}/import`},
          "Import a file"),
        h("button", {type: "button", onclick: () => addButton.click()}, "Add a lead")));
  }

  function emptyMatch() {
    return h("div", {class: "empty card"}, h("h2", {}, "No lead matches"),
      h("p", {}, "No lead matches; clear the filters or change the search."),
      h("p", {}, h("button", {type: "button", onclick: clearFilters}, "Clear the filters")));
  }

  function renderRows() {
    tbody.replaceChildren(...state.items.map(row));
    const onPage = state.items.filter((l) => state.selected.has(l.id)).length;
    selectAll.checked = state.allMatching || (onPage > 0 && onPage === state.items.length);
    selectAll.indeterminate = !state.allMatching && onPage > 0 && onPage < state.items.length;
    renderOffer();
    bulk.update(selectionSize(), state.allMatching);
  }

  function renderOffer() {
    const more = state.next || state.page > 0;
    const n = state.count === null || state.count === undefined ? "" : ` ${formatNumber(state.count)}`;
    if (state.allMatching) {
      offer.replaceChildren(`All${n} matching leads are selected. `,
        h("button", {type: "button", class: "ghost small", onclick: () => {
          clearSelection(); renderRows();
        }}, "Clear selection"));
    } else if (more && selectAll.checked) {
      offer.replaceChildren(`All ${state.items.length} on this page are selected. `,
        h("button", {type: "button", class: "ghost small", onclick: () => {
          state.allMatching = true; renderRows();
        }}, `Select all${n} matching`));
    } else {
      offer.replaceChildren();
    }
  }

  function row(lead) {
    return leadRow(lead, {
      checked: state.allMatching || state.selected.has(lead.id),
      locked: state.allMatching,
      open: panel.leadId() === lead.id,
      onCheck: (checked) => {
        if (checked) state.selected.add(lead.id); else state.selected.delete(lead.id);
        renderRows();
        tbody.querySelector(`tr[data-lead-id="${CSS.escape(lead.id)}"] input`)?.focus();
      },
      onOpen: () => openLead(lead.id),
    });
  }

  function openLead(leadId) {
    panel.open(leadId);
    writeHash(leadId);
    for (const tr of tbody.querySelectorAll("tr")) {
      tr.classList.toggle("open", tr.dataset.leadId === leadId);
    }
  }

  await load(first);
  if (query.get("lead")) panel.open(query.get("lead"));

  const stop = () => { stopped = true; if (controller) controller.abort(); panel.destroy(); };
  // Back/forward or a link within this list: same path, other filters or lead.
  stop.onQuery = (params) => {
    const filters = filtersFrom(params);
    for (const [key, control] of Object.entries(controls)) control.value = filters[key] || "";
    applyFilters(filters);
    const leadId = params.get("lead");
    if (leadId && leadId !== panel.leadId()) openLead(leadId);
    else if (!leadId && panel.leadId()) panel.close();
  };
  return stop;
}
