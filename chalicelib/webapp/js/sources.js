// Connected sources (to be built: issue 13).
import {h, mount} from "./dom.js";

export async function renderSources() {
  mount(h("h1", {}, "Sources"));
}
