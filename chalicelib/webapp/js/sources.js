// Connected sources: connect Google Sheets, HubSpot and Salesforce, see and
// remove connections; then, per list, syncs (source-syncs.js) and a Google
// Sheet import.
import {get, getAll} from "./api.js";
import {badge, busy, confirmDialog, describeError, formatDate, h, mount, routeGuard, spinner, toast} from "./dom.js";
import {controller} from "./wizard.js";
import {PROVIDERS, PROVIDER_NAMES, announceOAuthOutcome, connectWithOAuth, connectWithToken, disconnect} from "./source-connect.js";
import {sheetImportSection, syncsSection} from "./source-syncs.js";

// One page, no cursor: GET /connections takes no query parameters.
const connections = async () => (await get("/connections")).items;

export async function renderSources(query = new URLSearchParams()) {
  mount(spinner("Loading your sources…"));
  const current = routeGuard();
  const ctl = controller();
  const page = {ctl, connections: [], lists: [], listeners: new Set()};
  [page.connections, page.lists] = await Promise.all([connections(), getAll("/lists")]);
  if (!current()) return undefined;
  announceOAuthOutcome(query);
  const connectionsBox = h("div", {});
  const providerCards = h("div", {class: "providers"});
  // Other sections redraw their pickers when the connections change.
  page.changed = () => { drawConnections(); page.listeners.forEach((fn) => fn()); };

  async function reload() {
    page.connections = await connections();
    page.changed();
  }

  function drawProviders() {
    providerCards.replaceChildren(...PROVIDERS.map(([id, name, about]) => {
      const oauth = h("button", {type: "button", class: "primary"}, `Connect ${name}`);
      const token = h("button", {type: "button", class: "ghost small", "aria-label": `Connect ${name} with a token`},
        "Use a token instead");
      const waiting = h("p", {class: "muted", role: "status"});
      oauth.addEventListener("click", () => {
        waiting.textContent = `Opening ${name}'s consent page: allow leadpipe there and you come back here.`;
        // The tab leaves for the provider; on a failure the button is usable again.
        busy(oauth, () => connectWithOAuth(id)).catch(() => waiting.replaceChildren());
      });
      token.addEventListener("click", async () => {
        const created = await connectWithToken(id);
        if (created) { toast(`${name} connected.`); await reload(); }
      });
      return h("div", {class: "provider card"}, h("h3", {}, name), h("p", {class: "muted"}, about),
        h("div", {class: "actions"}, oauth, token), waiting);
    }));
  }

  function drawConnections() {
    if (!page.connections.length) {
      connectionsBox.replaceChildren(h("div", {class: "empty card"}, h("h3", {}, "No connections yet"),
        h("p", {}, "Connect Google Sheets, HubSpot or Salesforce above: a window opens where you allow leadpipe ",
          "to read your contacts, then you pick what goes into which list.")));
      return;
    }
    connectionsBox.replaceChildren(h("div", {class: "table-wrap"}, h("table", {class: "grid connections"},
      h("caption", {class: "sr-only"}, "Connections"),
      h("thead", {}, h("tr", {}, ["Name", "Provider", "State", "Token", "Connected", "Actions"].map((t) =>
        h("th", {scope: "col"}, t)))),
      h("tbody", {}, page.connections.map(connectionRow)))));
  }

  function connectionRow(conn) {
    const remove = h("button", {type: "button", class: "ghost small danger-text",
      "aria-label": `Disconnect ${conn.name}`}, "Disconnect");
    remove.addEventListener("click", async () => {
      const ok = await confirmDialog(`Disconnect "${conn.name}"? Syncs using it stop working until you connect again.`,
        {confirmLabel: "Disconnect", danger: true});
      if (!ok) return;
      await busy(remove, () => disconnect(conn.id)).catch(() => undefined);
      toast(`"${conn.name}" disconnected.`);
      await reload().catch((err) => toast(describeError(err), "error"));
    });
    const state = conn.status === "reauthorize"
      ? [badge("reauthorize", "conn"), h("span", {class: "cell-problem error"},
          (conn.error && conn.error.message) || "The provider refused the token: connect again.")]
      : badge(conn.status, "conn");
    return h("tr", {dataset: {connectionId: conn.id}},
      h("th", {scope: "row"}, conn.name),
      h("td", {}, PROVIDER_NAMES[conn.provider] || conn.provider),
      h("td", {}, state),
      h("td", {}, conn.credential_hint || "—"),
      h("td", {}, formatDate(conn.created_at)),
      h("td", {class: "row-actions"}, remove));
  }

  drawProviders();
  drawConnections();
  mount(h("div", {class: "page-head"}, h("h1", {}, "Sources")),
    h("p", {class: "muted"}, "Bring leads in from the tools your team already uses."),
    providerCards,
    h("section", {class: "sources-section", "aria-labelledby": "connections-h"},
      h("h2", {id: "connections-h"}, "Connections"), connectionsBox),
    sheetImportSection(page),
    syncsSection(page));
  return ctl.stop;
}
