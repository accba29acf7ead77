// Per list: a Google Sheet import (then the wizard's mapping and preview), and
// syncs with HubSpot or Salesforce — create, run now, last run, past runs.
import {ApiError, del, get, getAll, post} from "./api.js";
import {badge, busy, confirmDialog, describeError, field, formatDate, formatNumber, h, humanize, toast} from "./dom.js";
import {PROVIDER_NAMES} from "./source-connect.js";

const OBJECTS = {hubspot: [["contacts", "Contacts"]], salesforce: [["leads", "Leads"], ["contacts", "Contacts"]]};
const SCHEDULES = [["", "Only when I press Run now"], ["rate(15 minutes)", "Every 15 minutes"],
  ["rate(1 hour)", "Every hour"], ["rate(1 day)", "Every day"]];
const MODES = [["overwrite", "Follow the CRM (overwrite mapped fields)"], ["fill_empty", "Fill empty fields only"],
  ["skip", "Only add new leads"]];

function listPicker(page, label, onChange) {
  const select = h("select", {}, h("option", {value: ""}, page.lists.length ? "Choose a list…" : "No lists yet"),
    page.lists.map((lst) => h("option", {value: lst.id}, lst.name)));
  if (onChange) select.addEventListener("change", () => onChange(select.value));
  return {select, node: field(label, select)};
}

function errorText(err) {
  const listed = err instanceof ApiError ? (err.details.errors || []).filter((e) => e && e.message) : [];
  return listed.length ? listed.map((e) => e.message).join(" ") : describeError(err);
}

export function sheetImportSection(page) {
  const list = listPicker(page, "Into list");
  const connection = h("select", {});
  const sheetId = h("input", {type: "text", autocomplete: "off", placeholder: "https://docs.google.com/spreadsheets/d/…"});
  const sheetName = h("input", {type: "text", autocomplete: "off", placeholder: "The first sheet"});
  const submit = h("button", {type: "button", class: "primary"}, "Import the sheet");
  const problem = h("div", {class: "problem", role: "alert"});
  const body = h("div", {});
  function draw() {
    const google = page.connections.filter((c) => c.provider === "google_sheets");
    connection.replaceChildren(...google.map((c) => h("option", {value: c.id}, c.name)));
    body.replaceChildren(...(google.length ? [h("div", {class: "sync-form"}, list.node,
      field("Google connection", connection), field("Spreadsheet URL or ID", sheetId),
      field("Sheet (optional)", sheetName)), problem, h("div", {class: "actions"}, submit)]
      : [h("p", {class: "muted"}, "Connect Google Sheets above to import a spreadsheet.")]));
  }
  submit.addEventListener("click", () => {
    problem.replaceChildren();
    if (!list.select.value || !sheetId.value.trim()) {
      problem.textContent = "Choose the list and paste the spreadsheet's address (or its ID).";
      return;
    }
    busy(submit, async () => {
      const job = await post(`/lists/${encodeURIComponent(list.select.value)}/imports`, {
        source: "google_sheets", connection_id: connection.value, spreadsheet_id: sheetId.value.trim(),
        ...(sheetName.value.trim() ? {sheet_name: sheetName.value.trim()} : {})});
      location.hash = `#/imports/${encodeURIComponent(job.id)}`; // the wizard takes over: mapping, preview, start
    }, {quiet: true}).catch((err) => { problem.textContent = errorText(err); });
  });
  page.listeners.add(draw);
  draw();
  return h("section", {class: "sources-section", "aria-labelledby": "sheet-h"},
    h("h2", {id: "sheet-h"}, "Import a Google Sheet"),
    h("p", {class: "muted"}, "The sheet is read once; you then check the mapping and the first rows before it is imported."),
    body);
}

export function syncsSection(page) {
  const box = h("div", {});
  const note = h("p", {class: "muted", role: "status"});
  let listId = "";
  let generation = 0;
  const list = listPicker(page, "List", (id) => { listId = id; load(); });
  page.listeners.add(() => { if (listId) load(); });

  async function load() {
    const mine = ++generation; // a newer choice wins over a slower answer
    if (!listId) { box.replaceChildren(h("p", {class: "muted"}, "Choose a list to see and create its syncs.")); return; }
    box.replaceChildren(h("p", {class: "loading", role: "status"}, "Loading the syncs…"));
    try {
      const {items} = await get(`/lists/${encodeURIComponent(listId)}/syncs`);
      if (mine !== generation) return;
      box.replaceChildren(syncTable(items), newSyncForm(page, listId, load));
      const running = items.some((s) => s.running_import_id);
      note.textContent = running ? "A run is under way: this updates by itself." : "";
      if (running) {
        await page.ctl.sleep(2000);
        if (mine === generation) load();
      }
    } catch (err) {
      if (!page.ctl.stopped && mine === generation) box.replaceChildren(h("p", {role: "alert"}, errorText(err)));
    }
  }

  function syncTable(items) {
    if (!items.length) {
      return h("div", {class: "empty card"}, h("h3", {}, "No syncs for this list"),
        h("p", {}, "Create one below: pick a HubSpot or Salesforce connection, what to read and how often."));
    }
    return h("div", {class: "table-wrap"}, h("table", {class: "grid syncs"},
      h("caption", {class: "sr-only"}, "Syncs of the list"),
      h("thead", {}, h("tr", {}, ["Source", "Schedule", "Last run", "Next run", "Actions"].map((t) =>
        h("th", {scope: "col"}, t)))),
      h("tbody", {}, items.flatMap(syncRows))));
  }

  function syncRows(sync) {
    const name = `${PROVIDER_NAMES[sync.provider] || sync.provider} ${humanize(sync.object).toLowerCase()}`;
    const run = h("button", {type: "button", class: "small", "aria-label": `Run ${name} now`,
      disabled: Boolean(sync.running_import_id)}, sync.running_import_id ? "Running…" : "Run now");
    const history = h("button", {type: "button", class: "ghost small", "aria-expanded": "false",
      "aria-label": `Past runs of ${name}`}, "Past runs");
    const remove = h("button", {type: "button", class: "ghost small danger-text", "aria-label": `Delete ${name} sync`},
      "Delete");
    const runsRow = h("tr", {class: "runs-row", hidden: true}, h("td", {colspan: 5}));
    run.addEventListener("click", () => busy(run, async () => {
      await post(`/syncs/${encodeURIComponent(sync.id)}/run`, {});
      toast(`${name}: run started.`);
      load();
    }).catch(() => undefined));
    history.addEventListener("click", async () => {
      const open = history.getAttribute("aria-expanded") === "true";
      history.setAttribute("aria-expanded", String(!open));
      runsRow.hidden = open;
      if (!open) runsRow.firstChild.replaceChildren(await runsTable(sync));
    });
    remove.addEventListener("click", async () => {
      if (!await confirmDialog(`Delete the ${name} sync? Leads it brought stay in the list.`,
        {confirmLabel: "Delete sync", danger: true})) return;
      await busy(remove, () => del(`/syncs/${encodeURIComponent(sync.id)}`)).catch(() => undefined);
      load();
    });
    const last = sync.last_run;
    const lastCell = last ? [badge(last.status, "import"), " ", formatDate(last.finished_at || last.started_at),
      h("span", {class: "from-column"}, countsText(last.counts)),
      last.error ? h("span", {class: "cell-problem error"}, last.error.message || humanize(last.error.code)) : null]
      : h("span", {class: "muted"}, "Not run yet");
    return [h("tr", {dataset: {syncId: sync.id}},
      h("th", {scope: "row"}, name, sync.error ? h("span", {class: "cell-problem error"},
        sync.error.message || humanize(sync.error.code)) : null),
      h("td", {}, (SCHEDULES.find(([v]) => v === (sync.schedule || "")) || [null, sync.schedule])[1]),
      h("td", {}, lastCell),
      h("td", {}, sync.next_run_at ? formatDate(sync.next_run_at) : "—"),
      h("td", {class: "row-actions"}, run, history, remove)), runsRow];
  }

  load();
  return h("section", {class: "sources-section", "aria-labelledby": "syncs-h"},
    h("h2", {id: "syncs-h"}, "Syncs"),
    h("p", {class: "muted"}, "A sync keeps a list in step with a CRM: each run adds new people and updates changed ones."),
    list.node, note, box);
}

function countsText(c) {
  if (!c) return "";
  return `${formatNumber(c.saved)} saved · ${formatNumber(c.updated)} updated · ${formatNumber(c.unchanged)} unchanged · ` +
    `${formatNumber(c.duplicates)} duplicates · ${formatNumber(c.invalid)} invalid`;
}

async function runsTable(sync) {
  try {
    const runs = await getAll(`/syncs/${encodeURIComponent(sync.id)}/runs`, {}, 50);
    if (!runs.length) return h("p", {class: "muted"}, "No runs yet.");
    return h("table", {class: "grid"}, h("caption", {class: "sr-only"}, "Past runs"),
      h("thead", {}, h("tr", {}, ["Started", "Status", "Outcome", ""].map((t) => h("th", {scope: "col"}, t)))),
      h("tbody", {}, runs.map((job) => h("tr", {},
        h("td", {}, formatDate(job.started_at || job.created_at)), h("td", {}, badge(job.status, "import")),
        h("td", {}, countsText(job.counts)),
        h("td", {}, h("a", {href: `#/imports/${encodeURIComponent(job.id)}`}, "Summary"))))));
  } catch (err) {
    return h("p", {role: "alert"}, errorText(err));
  }
}

function newSyncForm(page, listId, reload) {
  const crm = page.connections.filter((c) => c.provider === "hubspot" || c.provider === "salesforce");
  if (!crm.length) return h("p", {class: "muted"}, "Connect HubSpot or Salesforce above to create a sync.");
  const connection = h("select", {}, crm.map((c) => h("option", {value: c.id},
    `${c.name} (${PROVIDER_NAMES[c.provider]})`)));
  const object = h("select", {});
  const schedule = h("select", {}, SCHEDULES.map(([v, l]) => h("option", {value: v}, l)));
  const mode = h("select", {}, MODES.map(([v, l]) => h("option", {value: v}, l)));
  const writeBack = h("input", {type: "checkbox", id: `wb-${listId}`});
  const create = h("button", {type: "button", class: "primary"}, "Create sync");
  const problem = h("div", {class: "problem", role: "alert"});
  const drawObjects = () => {
    const provider = (crm.find((c) => c.id === connection.value) || crm[0]).provider;
    object.replaceChildren(...OBJECTS[provider].map(([v, l]) => h("option", {value: v}, l)));
  };
  connection.addEventListener("change", drawObjects);
  drawObjects();
  create.addEventListener("click", () => {
    problem.replaceChildren();
    busy(create, () => post(`/lists/${encodeURIComponent(listId)}/syncs`, {
      connection_id: connection.value, object: object.value, schedule: schedule.value || null,
      mode: mode.value, write_back_status: writeBack.checked}), {quiet: true})
      .then(() => { toast("Sync created."); reload(); })
      .catch((err) => { problem.textContent = errorText(err); });
  });
  return h("div", {class: "card sources-section"}, h("h3", {}, "New sync"),
    h("div", {class: "sync-form"}, field("Connection", connection), field("What to read", object),
      field("How often", schedule), field("Existing leads", mode)),
    h("div", {class: "field checkbox"}, h("label", {for: writeBack.id}, writeBack,
      " Write status changes back to the CRM")),
    problem, h("div", {class: "actions"}, create));
}
