// The lead table of a list (to be built: issue 13).
import {h, mount} from "./dom.js";

export async function renderLeadTable(listId) {
  mount(h("h1", {}, "Leads"), h("p", {}, listId));
}
