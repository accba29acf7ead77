// The Lists screen: every list with its size, identity, verification summary
// and last import; create, rename, duplicate, delete.
import {ApiError, del, get, getAll, patch, post} from "./api.js";
import {
  busy, routeGuard, confirmDialog, field, formatDate, formatNumber, formDialog, h, humanize, mount,
  spinner, toast,
} from "./dom.js";

const IDENTITIES = [["email", "Email"], ["phone", "Phone"], ["linkedin_url", "LinkedIn URL"]];
export const REGIONS = ["US", "GB", "CA", "AU", "FR", "DE", "ES", "IT", "NL", "BE", "CH", "IE",
  "IN", "BR", "MX", "SE", "NO", "DK", "PL", "PT", "JP", "SG", "ZA", "NZ"];

export function listFields({name = "", identity = "email", region = "US"} = {}, {withIdentity = true} = {}) {
  const fields = [field("List name", h("input", {name: "name", value: name, required: true,
                                                 maxlength: 200, autocomplete: "off"}))];
  if (withIdentity) {
    fields.push(field("Identity (what makes two leads the same person)",
      h("select", {name: "identity"}, IDENTITIES.map(([value, label]) =>
        h("option", {value, selected: value === identity}, label)))));
  }
  fields.push(field("Phone region (for numbers written without +country code)",
    h("select", {name: "default_region"}, REGIONS.map((code) =>
      h("option", {value: code, selected: code === region}, code)))));
  return fields;
}

/** Ask for a new list and create it; resolves the created list or null. */
// The lists as the Lists screen last read them: opening one shows its table
// without first asking for its details again (they are refreshed meanwhile).
const seen = new Map();
export const knownList = (id) => seen.get(id);

export async function createListDialog() {
  for (;;) {
    const values = await formDialog("New list", listFields(), {submitLabel: "Create list"});
    if (!values) return null;
    try {
      const created = await post("/lists", values);
      toast(`List "${created.name}" created.`);
      return created;
    } catch (err) {
      toast(err instanceof ApiError ? err.message : String(err), "error");
    }
  }
}

export async function renderLists() {
  mount(spinner("Loading your lists…"));
  const current = routeGuard();
  const lists = await getAll("/lists");
  seen.clear();
  for (const lst of lists) seen.set(lst.id, lst);
  if (!current()) return undefined;
  const newButton = h("button", {type: "button", class: "primary"}, "New list");
  const importLink = h("a", {class: "button", href: "#/import"}, "Import");
  const header = h("div", {class: "page-head"}, h("h1", {}, "Lists"),
    h("div", {class: "actions"}, importLink, newButton));
  newButton.addEventListener("click", async () => {
    const created = await createListDialog();
    if (created) location.hash = `#/lists/${created.id}`;
  });
  if (!lists.length) {
    mount(header, h("div", {class: "empty card"},
      h("h2", {}, "No lists yet"),
      h("p", {}, "Create a list, then add leads one by one or import a file ",
        "(CSV, Excel, JSON) or a Google Sheet, HubSpot or Salesforce."),
      h("p", {}, h("a", {class: "button primary", href: "#/import"}, "Import a file"))));
    return undefined;
  }
  const rows = lists.map((lst) => listRow(lst));
  const table = h("table", {class: "grid lists"},
    h("caption", {class: "sr-only"}, "Your lists"),
    h("thead", {}, h("tr", {},
      ["Name", "Leads", "Identity", "Verification", "Last import", "Actions"].map((title) =>
        h("th", {scope: "col"}, title)))),
    h("tbody", {}, rows.map((r) => r.row)));
  mount(header, h("div", {class: "table-wrap"}, table));
  // Summaries fill in after the table shows, a few lists at a time.
  let stopped = false;
  (async () => {
    for (let i = 0; i < rows.length && !stopped; i += 4) {
      await Promise.all(rows.slice(i, i + 4).map((r) => r.fill().catch(() => undefined)));
    }
  })();
  return () => { stopped = true; };
}

function listRow(lst) {
  const verification = h("td", {}, h("span", {class: "muted"}, "…"));
  const lastImport = h("td", {}, h("span", {class: "muted"}, "…"));
  const name = h("a", {href: `#/lists/${encodeURIComponent(lst.id)}`}, lst.name);
  const rename = h("button", {type: "button", class: "ghost small",
                              "aria-label": `Rename ${lst.name}`}, "Rename");
  const duplicate = h("button", {type: "button", class: "ghost small",
                                 "aria-label": `Duplicate ${lst.name}`}, "Duplicate");
  const remove = h("button", {type: "button", class: "ghost small danger-text",
                              "aria-label": `Delete ${lst.name}`}, "Delete");
  const row = h("tr", {dataset: {listId: lst.id}},
    h("th", {scope: "row"}, name, lst.copy_status === "copying"
      ? h("span", {class: "badge status-new"}, "Copying…") : null),
    h("td", {class: "num"}, formatNumber(lst.lead_count)),
    h("td", {}, humanize(lst.identity === "linkedin_url" ? "LinkedIn URL" : lst.identity)),
    verification, lastImport,
    h("td", {class: "row-actions"}, rename, duplicate, remove));

  rename.addEventListener("click", async () => {
    const values = await formDialog(`Rename "${lst.name}"`,
      listFields({name: lst.name, region: lst.default_region}, {withIdentity: false}));
    if (!values) return;
    await busy(rename, () => patch(`/lists/${lst.id}`, values));
    toast("List saved.");
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  });
  duplicate.addEventListener("click", async () => {
    const values = await formDialog(`Duplicate "${lst.name}"`,
      [field("Name of the copy", h("input", {name: "name", value: `${lst.name} (copy)`,
                                             required: true, maxlength: 200}))],
      {submitLabel: "Duplicate"});
    if (!values) return;
    const copy = await busy(duplicate, () => post(`/lists/${lst.id}/duplicate`, values));
    toast(`"${copy.name}" created${copy.copy_status === "copying" ? "; its leads are being copied" : ""}.`);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  });
  remove.addEventListener("click", async () => {
    const ok = await confirmDialog(
      `Delete "${lst.name}" and its ${formatNumber(lst.lead_count)} leads? This cannot be undone.`,
      {confirmLabel: "Delete list", danger: true});
    if (!ok) return;
    await busy(remove, () => del(`/lists/${lst.id}`));
    row.remove();
    toast(`"${lst.name}" deleted.`);
  });

  async function fill() {
    const [stats, imports] = await Promise.all([
      get(`/lists/${lst.id}/stats`), get(`/lists/${lst.id}/imports`, {limit: 1})]);
    const by = stats.by_email_status || {};
    verification.replaceChildren(h("span", {class: "verification"},
      h("span", {class: "v-valid", title: "Valid"}, `${formatNumber(by.valid || 0)} valid`), " · ",
      h("span", {class: "v-risky", title: "Risky"}, `${formatNumber(by.risky || 0)} risky`), " · ",
      h("span", {class: "v-invalid", title: "Invalid"}, `${formatNumber(by.invalid || 0)} invalid`), " · ",
      h("span", {class: "v-pending", title: "Pending"}, `${formatNumber(by.pending || 0)} pending`)));
    const last = imports.items[0];
    lastImport.replaceChildren(last
      ? h("a", {href: `#/lists/${lst.id}/imports`},
          `${humanize(last.status)} · ${formatDate(last.finished_at || last.created_at)}`)
      : h("span", {class: "muted"}, "None yet"));
  }
  return {row, fill};
}
