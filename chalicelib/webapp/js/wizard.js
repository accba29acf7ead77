// The import wizard (to be built: issue 13).
import {h, mount} from "./dom.js";

export async function renderWizard(listId) {
  mount(h("h1", {}, "Import"), h("p", {}, listId || ""));
}

export async function renderImportProgress(importId) {
  mount(h("h1", {}, "Import"), h("p", {}, importId));
}
