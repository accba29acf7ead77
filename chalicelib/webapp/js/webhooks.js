// The Webhooks screen (#/webhooks): the workspace's endpoints (url, events,
// enabled or disabled with the reason), create one (its signing secret shown
// once), enable / disable, delete, and one endpoint's deliveries with
// "Redeliver".
import {ApiError, del, get, patch, post} from "./api.js";
import {
  badge, busy, confirmDialog, describeError, field, formatDate, h, humanize, mount, routeGuard,
  spinner, toast,
} from "./dom.js";

export const WEBHOOK_EVENTS = ["lead.created", "lead.updated", "lead.status_changed", "lead.verified",
  "lead.deleted", "import.completed", "sync.completed", "follow_up.due"];

const REASONS = {
  failing_for_24h: "no delivery succeeded for 24 hours. Fix the endpoint, then enable it and redeliver what it missed.",
  disabled_by_user: "disabled here or through the API.",
};

const ERRORS = {
  timeout: "the endpoint did not answer in time",
  connection_error: "the endpoint could not be reached",
  forbidden_address: "the URL points at a private or internal address",
  redirect_not_followed: "the endpoint answered with a redirect (not followed)",
  endpoint_disabled: "the endpoint was disabled",
};

function createForm(onCreated) {
  const url = h("input", {type: "url", name: "url", required: true, maxlength: 2048,
                          placeholder: "https://example.com/leadpipe-hook", autocomplete: "off"});
  const urlError = h("p", {class: "field-error", id: "webhook-url-error", hidden: true});
  const description = h("input", {name: "description", maxlength: 500, autocomplete: "off"});
  const boxes = WEBHOOK_EVENTS.map((event) => h("label", {class: "check-label"},
    h("input", {type: "checkbox", name: "events", value: event}), ` ${event}`));
  const eventsError = h("p", {class: "field-error", id: "webhook-events-error", hidden: true});
  const submit = h("button", {type: "submit", class: "primary"}, "Create endpoint");
  const form = h("form", {class: "card webhook-form", "aria-label": "New endpoint"},
    h("h2", {}, "New endpoint"),
    field("Endpoint URL", url, "https only; the signing secret is shown once after creating."),
    urlError,
    h("fieldset", {class: "webhook-events", "aria-describedby": eventsError.id},
      h("legend", {}, "Events to send"), boxes),
    eventsError,
    field("Description (optional)", description),
    h("div", {class: "actions"}, submit));

  const show = (el, input, message) => {
    el.textContent = message || "";
    el.hidden = !message;
    if (!input) return;
    if (message) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", el.id); }
    else { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(urlError, url, null);
    show(eventsError, null, null);
    const events = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    if (!url.value.trim()) { show(urlError, url, "Enter the URL leadpipe should POST events to."); url.focus(); return; }
    if (!events.length) { show(eventsError, null, "Tick at least one event to send."); boxes[0].querySelector("input").focus(); return; }
    try {
      const created = await busy(submit, () => post("/webhooks", {url: url.value.trim(), events,
        description: description.value.trim() || undefined}), {quiet: true});
      form.reset();
      await secretDialog(created);
      onCreated();
    } catch (err) {
      const fields = err instanceof ApiError ? err.fieldErrors : {};
      if (fields.url || (err instanceof ApiError && err.status === 400 && !fields.events && !fields.description)) {
        show(urlError, url, `${fields.url || err.message} Use an https URL on a public host.`);
        url.focus();
      } else if (fields.events) {
        show(eventsError, null, fields.events);
      } else {
        toast(fields.description ? `Description: ${fields.description}` : describeError(err), "error");
      }
    }
  });
  return form;
}

/** The new endpoint's secret, this once, with a copy button. */
function secretDialog(created) {
  return new Promise((resolve) => {
    const secret = h("input", {readonly: true, value: created.secret, class: "secret", id: "webhook-secret",
                               "aria-label": "Signing secret", spellcheck: "false"});
    const copyStatus = h("span", {class: "muted", role: "status"});
    const copy = h("button", {type: "button"}, "Copy secret");
    const done = h("button", {type: "button", class: "primary"}, "I have stored it");
    const dialog = h("dialog", {class: "dialog", "aria-label": "Endpoint created"},
      h("h2", {}, "Endpoint created"),
      h("p", {}, "Every delivery to ", h("code", {}, created.url), " is signed with this secret."),
      h("p", {class: "warning"}, h("strong", {}, "Copy it now: it will not be shown again."),
        " If it is lost, delete the endpoint and create a new one."),
      h("div", {class: "secret-row"}, secret, copy), copyStatus,
      h("div", {class: "actions"}, done));
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(created.secret);
        copyStatus.textContent = "Copied.";
      } catch {
        secret.select();
        copyStatus.textContent = "Copying is blocked here: the secret is selected, press Ctrl+C (⌘C).";
      }
    });
    const close = () => { dialog.close(); dialog.remove(); resolve(); };
    done.addEventListener("click", close);
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(); });
    document.body.append(dialog);
    dialog.showModal();
    secret.select();
    copy.focus();
  });
}

function deliveriesView(hook) {
  const body = h("tbody");
  const more = h("button", {type: "button", class: "ghost small", hidden: true}, "Load older deliveries");
  const status = h("p", {class: "muted", role: "status"}, "Loading deliveries…");
  const table = h("table", {class: "grid deliveries"},
    h("caption", {class: "sr-only"}, `Deliveries to ${hook.url}`),
    h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Last error", "Last attempt", "Actions"]
      .map((t) => h("th", {scope: "col"}, t)))), body);
  let cursor = null;

  function row(d) {
    const redeliver = h("button", {type: "button", class: "ghost small",
                                   "aria-label": `Redeliver ${d.event_type} ${d.id}`}, "Redeliver");
    const tr = h("tr", {dataset: {deliveryId: d.id}},
      h("td", {}, h("code", {}, d.event_type), h("br"), h("small", {class: "muted"}, d.event_id)),
      h("td", {class: "delivery-status"}, badge(d.status, "delivery")),
      h("td", {class: "num"}, String(d.attempts)),
      h("td", {class: "delivery-error"}, d.last_error
        ? `${ERRORS[d.last_error] || humanize(d.last_error)}${d.last_status_code ? ` (HTTP ${d.last_status_code})` : ""}`
        : d.last_status_code ? `HTTP ${d.last_status_code}` : "—"),
      h("td", {class: "nowrap"}, formatDate(d.last_attempt_at)),
      h("td", {}, redeliver));
    redeliver.addEventListener("click", async () => {
      try {
        const again = await busy(redeliver, () =>
          post(`/webhooks/${encodeURIComponent(hook.id)}/deliveries/${encodeURIComponent(d.id)}/redeliver`),
        {quiet: true});
        tr.replaceWith(row(again || {...d, status: "pending"}));
        toast("Delivery queued again.");
      } catch (err) {
        toast(err instanceof ApiError && err.status === 409
          ? `${err.message} Enable the endpoint first, or wait for the current attempt.`
          : describeError(err), "error");
      }
    });
    return tr;
  }

  async function load(reset) {
    if (reset) { cursor = null; body.replaceChildren(); }
    try {
      const page = await get(`/webhooks/${encodeURIComponent(hook.id)}/deliveries`, {limit: 25, cursor});
      body.append(...page.items.map(row));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = body.children.length ? ""
        : "No deliveries yet (the last 30 days): they appear when a subscribed event happens.";
    } catch (err) {
      status.textContent = `${describeError(err)} Try again with Refresh.`;
    }
  }
  more.addEventListener("click", () => busy(more, () => load(false)).catch(() => undefined));
  const refresh = h("button", {type: "button", class: "ghost small",
                               "aria-label": `Refresh deliveries to ${hook.url}`}, "Refresh");
  refresh.addEventListener("click", () => busy(refresh, () => load(true)).catch(() => undefined));
  const el = h("section", {class: "deliveries-box", "aria-label": `Deliveries to ${hook.url}`},
    h("div", {class: "page-head"}, h("h3", {}, "Deliveries"), refresh),
    status, h("div", {class: "table-wrap"}, table), more);
  load(true);
  return el;
}

function endpointCard(hook, reload) {
  const toggle = h("button", {type: "button", class: "small",
                              "aria-label": `${hook.enabled ? "Disable" : "Enable"} ${hook.url}`},
    hook.enabled ? "Disable" : "Enable");
  const remove = h("button", {type: "button", class: "small danger-text ghost",
                              "aria-label": `Delete ${hook.url}`}, "Delete");
  const show = h("button", {type: "button", class: "small ghost", "aria-expanded": "false",
                            "aria-label": `Deliveries to ${hook.url}`}, "Deliveries");
  const slot = h("div");
  const card = h("li", {class: "card webhook", dataset: {webhookId: hook.id}},
    h("div", {class: "webhook-head"},
      h("code", {class: "webhook-url"}, hook.url),
      h("span", {class: `badge ${hook.enabled ? "status-replied" : "status-bounced"} webhook-state`},
        hook.enabled ? "Enabled" : "Disabled")),
    hook.description ? h("p", {class: "muted"}, hook.description) : null,
    !hook.enabled ? h("p", {class: "disabled-reason"},
      `Disabled: ${REASONS[hook.disabled_reason] || humanize(hook.disabled_reason || "disabled")}`) : null,
    h("p", {class: "webhook-events-list"}, "Events: ", hook.events.join(", ")),
    h("div", {class: "actions"}, show, toggle, remove), slot);

  toggle.addEventListener("click", async () => {
    try {
      await busy(toggle, () => patch(`/webhooks/${encodeURIComponent(hook.id)}`, {enabled: !hook.enabled}),
        {quiet: true});
      toast(hook.enabled ? "Endpoint disabled." : "Endpoint enabled.");
      reload();
    } catch (err) {
      toast(`${describeError(err)} Nothing changed.`, "error");
    }
  });
  remove.addEventListener("click", async () => {
    const ok = await confirmDialog(`Delete the endpoint ${hook.url}? Deliveries in flight are dropped; ` +
      "this cannot be undone.", {confirmLabel: "Delete endpoint", danger: true});
    if (!ok) return;
    try {
      await busy(remove, () => del(`/webhooks/${encodeURIComponent(hook.id)}`), {quiet: true});
      card.remove();
      toast("Endpoint deleted.");
    } catch (err) {
      toast(`${describeError(err)} The endpoint was not deleted.`, "error");
    }
  });
  show.addEventListener("click", () => {
    const open = show.getAttribute("aria-expanded") === "true";
    show.setAttribute("aria-expanded", String(!open));
    slot.replaceChildren(...(open ? [] : [deliveriesView(hook)]));
  });
  return card;
}

export async function renderWebhooks() {
  mount(spinner("Loading your webhooks…"));
  const current = routeGuard();
  const list = h("ul", {class: "webhooks", "aria-label": "Endpoints"});
  const status = h("p", {class: "muted", role: "status"});

  async function reload() {
    try {
      const answer = await get("/webhooks");
      if (!current()) return;
      list.replaceChildren(...answer.items.map((hook) => endpointCard(hook, reload)));
      status.textContent = answer.items.length ? ""
        : "No endpoints yet. Add one below to have leadpipe POST events to your system.";
    } catch (err) {
      status.textContent = `${describeError(err)} Reload the page to try again.`;
    }
  }
  await reload();
  if (!current()) return undefined;
  mount(h("div", {class: "page-head"}, h("h1", {}, "Webhooks")),
    h("p", {class: "muted"}, "leadpipe POSTs each subscribed event to your endpoints, signed with the ",
      "endpoint's secret; failed deliveries are retried for 24 hours."),
    status, list, createForm(reload));
  return undefined;
}
