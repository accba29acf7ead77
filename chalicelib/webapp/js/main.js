// Boot and routing. The token arrives in the URL fragment (#token=...), which
// browsers never send to a server; it is moved to this tab's session storage
// and the fragment is replaced at once, so it stays out of history too.
import {forgetToken, getToken, onUnauthorized, setToken} from "./api.js";
import {h, mount, nextRoute, routeGuard, toast} from "./dom.js";
import {renderSignIn} from "./signin.js";
import {renderLists} from "./lists.js";
import {renderLeadTable} from "./leads.js";
import {renderWizard, renderImportProgress} from "./wizard.js";
import {renderImports} from "./imports.js";
import {renderSources} from "./sources.js";
import {renderActivity} from "./activity.js";
import {renderWebhooks} from "./webhooks.js";
import {renderSuppressions} from "./suppressions.js";

// [pattern, render, nav section]. A render gets (params, query) and may return
// a function that stops its timers when the person navigates away.
const ROUTES = [
  [/^#\/lists$/, () => renderLists(), "lists"],
  [/^#\/lists\/([^/]+)$/, ([id], query) => renderLeadTable(id, query), "lists"],
  [/^#\/lists\/([^/]+)\/import$/, ([id]) => renderWizard(id), "lists"],
  [/^#\/lists\/([^/]+)\/imports$/, ([id]) => renderImports(id), "lists"],
  [/^#\/import$/, () => renderWizard(null), "lists"],
  [/^#\/imports\/([^/]+)$/, ([id]) => renderImportProgress(id), "lists"],
  [/^#\/sources$/, (_, query) => renderSources(query), "sources"],
  [/^#\/activity$/, (_, query) => renderActivity(query), "activity"],
  [/^#\/webhooks$/, () => renderWebhooks(), "webhooks"],
  [/^#\/suppressions$/, () => renderSuppressions(), "suppressions"],
];

let stopCurrent = null;

function takeTokenFromFragment() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = fragment.get("token");
  if (token) {
    setToken(token);
    history.replaceState(null, "", `${location.pathname}${location.search}#/lists`);
  }
}

function splitHash(hash) {
  const [path, queryString] = hash.split("?");
  return [path || "#/lists", new URLSearchParams(queryString || "")];
}

async function route() {
  if (typeof stopCurrent === "function") stopCurrent();
  stopCurrent = null;
  nextRoute();
  const current = routeGuard();
  const signedIn = Boolean(getToken());
  document.getElementById("topbar").hidden = !signedIn;
  if (!signedIn) {
    renderSignIn(() => { location.hash = "#/lists"; route(); });
    return;
  }
  const [path, query] = splitHash(location.hash);
  for (const [pattern, render, section] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    markNav(section);
    try {
      const stop = await render(match.slice(1).map(decodeURIComponent), query);
      // A render the person navigated away from stops at once.
      if (current()) stopCurrent = stop;
      else if (typeof stop === "function") stop();
    } catch (err) {
      if (!current()) return;
      mount(h("div", {class: "empty"}, h("h1", {}, "This page could not be shown"),
        h("p", {}, err && err.message ? err.message : String(err)),
        h("p", {}, h("a", {href: "#/lists"}, "Back to your lists"))));
    }
    return;
  }
  location.replace("#/lists");
}

function markNav(section) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function signOut() {
  forgetToken();
  history.replaceState(null, "", `${location.pathname}${location.search}#/lists`);
  route();
}

onUnauthorized(() => {
  if (!getToken()) return;
  forgetToken();
  toast("Your session ended: sign in again with a workspace token.", "error");
  route();
});

takeTokenFromFragment();
document.getElementById("sign-out").addEventListener("click", signOut);
// Only the path part of the hash routes; "?lead=..." changes are the screen's own.
let lastPath = null;
window.addEventListener("hashchange", () => {
  const [path] = splitHash(location.hash);
  if (path === lastPath && typeof stopCurrent === "function" && stopCurrent.onQuery) {
    stopCurrent.onQuery(splitHash(location.hash)[1]);
    return;
  }
  lastPath = path;
  route();
});
lastPath = splitHash(location.hash)[0];
route();
