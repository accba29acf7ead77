// DOM helpers. Every value from the API goes in as text (textContent or an
// attribute), never as HTML: a lead named "<img src=x onerror=...>" shows
// those characters. Nothing here uses innerHTML.

/** h("button", {type: "button", onclick: fn, "aria-label": "Close"}, "x") */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else if (key === "checked" || key === "disabled" || key === "selected") {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let routeSeq = 0;
/** The router calls this when the address moves to another screen. */
export function nextRoute() { return ++routeSeq; }
/**
 * Taken when a render starts: false once the person has gone to another
 * screen, so a slow answer for the old screen is not mounted over the new one.
 */
export function routeGuard() {
  const mine = routeSeq;
  return () => mine === routeSeq;
}

export function mount(...children) {
  const main = document.getElementById("main");
  clear(main);
  append(main, children);
  return main;
}

let toastSeq = 0;
/** A short message in the corner; errors stay until dismissed. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const id = `toast-${++toastSeq}`;
  const close = h("button", {type: "button", class: "ghost small", "aria-label": "Dismiss",
                              onclick: () => item.remove()}, "×");
  const item = h("div", {class: `toast ${kind}`, id}, h("span", {}, message), close);
  box.append(item);
  if (kind !== "error") setTimeout(() => item.remove(), 5000);
  return item;
}

/**
 * Run `work` with `button` disabled and marked busy: no double submit, and the
 * person sees the server is working. Returns work's result; errors are shown.
 */
export async function busy(button, work, {quiet = false} = {}) {
  if (button && button.disabled) return undefined;
  const label = button ? button.getAttribute("aria-busy") : null;
  if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
  try {
    return await work();
  } catch (err) {
    if (!quiet) toast(describeError(err), "error");
    throw err;
  } finally {
    if (button) {
      button.disabled = false;
      if (label === null) button.removeAttribute("aria-busy");
    }
  }
}

/** What to tell a person about a failed call: the API's message, and what to do. */
export function describeError(err) {
  if (err && err.status === 0) return "Cannot reach leadpipe. Check your connection and try again.";
  if (err && err.status === 429) return "Too many requests: wait a few seconds and try again.";
  if (err && err.message) return err.message;
  return "Something went wrong. Try again.";
}

/** A modal question; resolves true (confirm) or false (cancel / Esc). */
export function confirmDialog(question, {confirmLabel = "Confirm", danger = false} = {}) {
  return new Promise((resolve) => {
    const ok = h("button", {type: "button", class: danger ? "danger" : "primary"}, confirmLabel);
    const cancel = h("button", {type: "button", class: "ghost"}, "Cancel");
    const dialog = h("dialog", {class: "dialog", "aria-label": confirmLabel},
      h("p", {}, question), h("div", {class: "actions"}, cancel, ok));
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    ok.addEventListener("click", () => done(true));
    cancel.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A modal form: `fields` are built by the caller; resolves the form's values or null. */
export function formDialog(title, fields, {submitLabel = "Save"} = {}) {
  return new Promise((resolve) => {
    const submit = h("button", {type: "submit", class: "primary"}, submitLabel);
    const cancel = h("button", {type: "button", class: "ghost"}, "Cancel");
    const form = h("form", {method: "dialog"}, h("h2", {}, title), fields,
      h("div", {class: "actions"}, cancel, submit));
    const dialog = h("dialog", {class: "dialog", "aria-label": title}, form);
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      done(Object.fromEntries(new FormData(form).entries()));
    });
    cancel.addEventListener("click", () => done(null));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); done(null); });
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector("input, select, textarea");
    if (first) first.focus();
  });
}

/** A labelled form control: the label names it for screen readers and tests. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const parts = [h("label", {for: id}, label), control];
  if (hint) parts.push(h("small", {class: "hint"}, hint));
  return h("div", {class: "field"}, parts);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function formatNumber(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US");
}

/** "1 lead", "2 leads", "— leads" (unknown). */
export function countOf(n, one, many) {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}

export function formatDate(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** "new" → "New", "not_interested" → "Not interested" */
export function humanize(value) {
  const text = String(value || "").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A status pill; `kind` picks the colour family (lead status or email status). */
export function badge(value, kind = "status") {
  return h("span", {class: `badge ${kind}-${value || "none"}`}, humanize(value || "none"));
}

export function spinner(label = "Loading…") {
  return h("p", {class: "loading", role: "status"}, label);
}

/** Save a Blob as a file named `filename` (an object URL; no inline script). */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", {href: url, download: filename, hidden: true});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Follow a presigned link (its response says "attachment"); the page stays. */
export function download(url) {
  const link = h("a", {href: url, hidden: true, rel: "noopener"});
  document.body.append(link);
  link.click();
  link.remove();
}
