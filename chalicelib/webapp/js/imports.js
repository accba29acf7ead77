// Past imports of a list (to be built: issue 13).
import {h, mount} from "./dom.js";

export async function renderImports(listId) {
  mount(h("h1", {}, "Imports"), h("p", {}, listId));
}
