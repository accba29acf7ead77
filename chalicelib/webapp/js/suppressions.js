// The Suppressions screen (#/suppressions): the workspace's suppression list,
// newest first with "Load more" (only a masked value is ever shown: the API
// keeps a hash and a masked form), adding an email, phone, LinkedIn URL or a
// whole email domain with an optional reason code, and removing an entry
// after a confirmation.
import {ApiError, del, get, postAnswer} from "./api.js";
import {
  busy, confirmDialog, describeError, field, formatDate, h, humanize, mount, routeGuard, spinner,
  toast,
} from "./dom.js";

const PAGE = 25;
export const SUPPRESSION_KINDS = [
  ["email", "Email", "email", "ada@example.com"],
  ["phone", "Phone", "tel", "+14155550101"],
  ["linkedin_url", "LinkedIn URL", "url", "https://www.linkedin.com/in/ada-lovelace"],
  ["domain", "Email domain", "text", "example.com"],
];
const KIND_LABELS = Object.fromEntries(SUPPRESSION_KINDS.map(([kind, label]) => [kind, label]));
const kindLabel = (kind) => KIND_LABELS[kind] || humanize(kind);

/** What a row and its buttons call an entry: its masked value (none once the person is erased). */
export function suppressionLabel(entry) {
  return entry.value || `${kindLabel(entry.kind).toLowerCase()} kept as a hash only`;
}

const WHAT_IT_DOES = "A suppressed person (or a whole email domain) is never added to any of " +
  "this workspace's lists: the API refuses them, a batch skips them, and imports and syncs " +
  "reject their rows. Leads already in a list stay where they are.";

function addForm(onAdded) {
  const kind = h("select", {name: "kind"}, SUPPRESSION_KINDS.map(([value, label]) =>
    h("option", {value}, label)));
  const value = h("input", {name: "value", required: true, maxlength: 2048, autocomplete: "off",
                            spellcheck: "false"});
  const reason = h("input", {name: "reason", maxlength: 40, autocomplete: "off", spellcheck: "false",
                             placeholder: "manual"});
  const valueError = h("p", {class: "field-error", id: "suppression-value-error", hidden: true});
  const reasonError = h("p", {class: "field-error", id: "suppression-reason-error", hidden: true});
  const outcome = h("p", {class: "suppression-outcome", role: "status"});
  const submit = h("button", {type: "submit", class: "primary"}, "Add suppression");
  const form = h("form", {class: "card suppression-form", "aria-label": "Add a suppression",
                          novalidate: true},
    h("h2", {}, "Add a suppression"),
    h("div", {class: "suppression-fields"},
      field("Kind", kind),
      h("div", {class: "suppression-value"}, field("Value", value), valueError),
      h("div", {}, field("Reason code (optional)", reason,
        "Lowercase letters, digits and _; \"manual\" when empty."), reasonError)),
    outcome, h("div", {class: "actions"}, submit));

  const follow = () => {
    const [, , type, example] = SUPPRESSION_KINDS.find(([k]) => k === kind.value);
    value.type = type;
    value.placeholder = example;
  };
  kind.addEventListener("change", follow);
  follow();

  const show = (el, input, message) => {
    el.textContent = message || "";
    el.hidden = !message;
    if (message) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", el.id); }
    else { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(valueError, value, null);
    show(reasonError, reason, null);
    outcome.textContent = "";
    const text = value.value.trim();
    if (!text) {
      show(valueError, value, `Enter the ${kindLabel(kind.value).toLowerCase()} to suppress.`);
      value.focus();
      return;
    }
    const body = {[kind.value]: text};
    if (reason.value.trim()) body.reason = reason.value.trim();
    try {
      const answer = await busy(submit, () => postAnswer("/suppressions", body), {quiet: true});
      const entry = answer.body;
      if (answer.status === 200) {
        outcome.textContent = `Already suppressed: ${suppressionLabel(entry)} since ` +
          `${formatDate(entry.created_at)} (reason ${humanize(entry.reason)}). Nothing changed.`;
      } else {
        value.value = "";
        reason.value = "";
        outcome.textContent = `Suppressed ${suppressionLabel(entry)}.`;
      }
      onAdded(entry);
    } catch (err) {
      const fields = err instanceof ApiError && err.status === 400 ? err.fieldErrors : {};
      const names = Object.keys(fields);
      if (!names.length) { toast(describeError(err), "error"); return; }
      if (fields.reason) show(reasonError, reason, fields.reason);
      const other = names.filter((name) => name !== "reason").map((name) => fields[name]);
      if (other.length) show(valueError, value, other.join(" "));
      (other.length ? value : reason).focus();
    }
  });
  return form;
}

export async function renderSuppressions() {
  mount(spinner("Loading the suppression list…"));
  const current = routeGuard();
  const body = h("tbody");
  const table = h("table", {class: "grid suppressions"},
    h("caption", {class: "sr-only"}, "Suppressed people and domains, newest first"),
    h("thead", {}, h("tr", {}, ["Value", "Kind", "Reason", "Added", "Actions"]
      .map((t) => h("th", {scope: "col"}, t)))), body);
  const wrap = h("div", {class: "table-wrap", hidden: true}, table);
  const more = h("button", {type: "button", hidden: true}, "Load more");
  const status = h("p", {class: "muted", role: "status"});
  const empty = h("div", {class: "empty card", hidden: true},
    h("h2", {}, "No one is suppressed"), h("p", {}, WHAT_IT_DOES),
    h("p", {class: "muted"}, "Add a person or a domain above; unsubscribes and bounces your " +
      "outreach tools report are added here by themselves."));
  let cursor = null;

  function showEmpty() {
    const none = !body.children.length;
    empty.hidden = !none;
    wrap.hidden = none;
  }

  function row(entry) {
    const label = suppressionLabel(entry);
    const remove = h("button", {type: "button", class: "ghost small danger-text",
                                "aria-label": `Remove suppression ${label}`}, "Remove");
    const tr = h("tr", {dataset: {suppressionId: entry.id}},
      h("th", {scope: "row", class: "suppression-value"},
        entry.value ? h("code", {}, entry.value) : h("span", {class: "muted"}, "(erased: hash only)")),
      h("td", {}, kindLabel(entry.kind)),
      h("td", {}, h("span", {class: "badge"}, humanize(entry.reason))),
      h("td", {class: "nowrap"}, h("time", {datetime: entry.created_at}, formatDate(entry.created_at))),
      h("td", {}, remove));
    remove.addEventListener("click", async () => {
      const ok = await confirmDialog(`Remove the suppression of ${label}? From then on they can be ` +
        "added to your lists again, by the API, imports and syncs.",
      {confirmLabel: "Remove suppression", danger: true});
      if (!ok) return;
      try {
        await busy(remove, () => del(`/suppressions/${encodeURIComponent(entry.id)}`), {quiet: true});
        toast(`Suppression of ${label} removed.`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) {
          toast(`${describeError(err)} The suppression was kept.`, "error");
          return;
        }
        toast("That suppression had already been removed.");
      }
      tr.remove();
      showEmpty();
    });
    return tr;
  }

  async function load(reset) {
    const page = await get("/suppressions", {limit: PAGE, cursor: reset ? null : cursor});
    if (!current()) return;
    if (reset) body.replaceChildren();
    body.append(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    status.textContent = "";
    showEmpty();
  }
  const reload = () => load(true).catch((err) => {
    status.textContent = `${describeError(err)} Reload the page to try again.`;
  });
  more.addEventListener("click", () => busy(more, () => load(false)).catch(() => undefined));

  try {
    await load(true);
  } catch (err) {
    if (!current()) return undefined;
    status.textContent = `${describeError(err)} Reload the page to try again.`;
  }
  if (!current()) return undefined;
  mount(h("div", {class: "page-head"}, h("h1", {}, "Suppressions")),
    h("p", {class: "muted"}, WHAT_IT_DOES),
    addForm(reload), status, empty, wrap, h("div", {class: "actions feed-more"}, more));
  return undefined;
}
