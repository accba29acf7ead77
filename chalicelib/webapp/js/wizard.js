// The import wizard (seed 001): list → file → mapping → preview → mode → import.
// One state object travels through the steps; each step renders itself into
// the wizard's body and calls wiz.go(n) to move. Polling timers live on the
// wizard's controller so navigating away (the router calls stop) ends them.
import {get} from "./api.js";
import {h, mount, routeGuard, spinner} from "./dom.js";
import {stepList, stepFile} from "./wizard-upload.js";
import {stepMapping, stepPreview} from "./wizard-mapping.js";
import {stepMode, stepStart, renderRun} from "./wizard-run.js";

const STEPS = ["List", "File", "Mapping", "Preview", "Mode", "Import"];
const RENDER = [stepList, stepFile, stepMapping, stepPreview, stepMode, stepStart];

/** Timers that stop when the screen goes away; sleep() rejects once stopped. */
export function controller() {
  const ctl = {stopped: false, timers: new Set()};
  ctl.sleep = (ms) => new Promise((resolve, reject) => {
    if (ctl.stopped) { reject(new Error("stopped")); return; }
    const timer = setTimeout(() => {
      ctl.timers.delete(timer);
      if (ctl.stopped) reject(new Error("stopped")); else resolve();
    }, ms);
    ctl.timers.add(timer);
  });
  ctl.stop = () => { ctl.stopped = true; ctl.timers.forEach(clearTimeout); ctl.timers.clear(); };
  return ctl;
}

function newWizard(title) {
  const ctl = controller();
  const stepper = h("ol", {class: "stepper"});
  const body = h("section", {class: "wizard-body card", "aria-live": "polite"});
  const heading = h("h1", {}, title);
  const crumbs = h("p", {class: "muted wizard-context"});
  const wiz = {
    ctl, body, step: 0,
    // list, job (the import as the API last answered), file (the File chosen
    // in this tab), rows (its first rows parsed here, for sample values),
    // mapping (column → target as the person chose), mode.
    state: {list: null, job: null, file: null, rows: null, mapping: {}, mode: "skip"},
    go(step, extra) {
      wiz.step = step;
      drawStepper();
      drawContext();
      body.replaceChildren(RENDER[step](wiz, extra));
      const focus = body.querySelector("h2");
      if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus({preventScroll: false}); }
    },
    run(job) {
      wiz.step = 5;
      wiz.state.job = job;
      drawStepper(true);
      drawContext();
      body.replaceChildren(renderRun(wiz, job));
    },
    refreshContext: () => drawContext(),
  };
  function drawStepper(started = false) {
    stepper.replaceChildren(...STEPS.map((name, i) => {
      const done = started ? i < 5 : i < wiz.step;
      return h("li", {class: done ? "done" : i === wiz.step ? "current" : "",
                      "aria-current": i === wiz.step ? "step" : null},
        h("span", {class: "step-number", "aria-hidden": "true"}, done ? "✓" : String(i + 1)),
        h("span", {class: "step-name"}, name),
        h("span", {class: "sr-only"}, done ? " (done)" : i === wiz.step ? " (current step)" : ""));
    }));
  }
  function drawContext() {
    const {list, job} = wiz.state;
    const parts = [];
    if (list) parts.push("Into ", h("a", {href: `#/lists/${encodeURIComponent(list.id)}`}, list.name));
    if (job && job.filename) parts.push(parts.length ? " · " : "", "File ", h("strong", {}, job.filename));
    crumbs.replaceChildren(...parts);
  }
  mount(h("div", {class: "page-head"}, heading),
    h("nav", {"aria-label": "Import steps", class: "stepper-wrap"}, stepper), crumbs, body);
  return wiz;
}

export async function renderWizard(listId) {
  mount(spinner("Opening the import wizard…"));
  const current = routeGuard();
  const wiz = newWizard("Import leads");
  if (listId) {
    wiz.state.list = await get(`/lists/${encodeURIComponent(listId)}`);
    if (!current()) return undefined;
    wiz.go(1);
  } else {
    wiz.go(0);
  }
  return wiz.ctl.stop;
}

/** Any import: continue its wizard where it stands, or show its progress and summary. */
export async function renderImportProgress(importId) {
  mount(spinner("Loading the import…"));
  const current = routeGuard();
  const job = await get(`/imports/${encodeURIComponent(importId)}`);
  const wiz = newWizard("Import");
  wiz.state.job = job;
  wiz.state.mapping = {...(job.mapping || {})};
  wiz.state.mode = job.mode || "skip";
  try {
    wiz.state.list = await get(`/lists/${encodeURIComponent(job.list_id)}`);
  } catch {
    wiz.state.list = null; // the list was deleted; the import's record still shows
  }
  if (!current()) return undefined;
  if (job.status === "ready") wiz.go(2);
  else if (job.status === "awaiting_upload" || job.status === "analysing") wiz.go(1);
  else wiz.run(job);
  return wiz.ctl.stop;
}
