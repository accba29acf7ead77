// Connecting a provider: the OAuth authorization-code flow in a small window,
// or a token pasted by hand (a HubSpot private app's token, for instance).
//
// The provider sends that window to the API's callback, which exchanges the
// code and creates the connection. This page cannot read that window: the
// app's Cross-Origin-Opener-Policy (same-origin) cuts the link as soon as it
// shows the provider's page. So we watch the connections instead, until one
// of this provider appears that was not there before.
import {del, get, post} from "./api.js";
import {field, formDialog, h, toast} from "./dom.js";

export const PROVIDERS = [
  ["google_sheets", "Google Sheets", "Import a spreadsheet's rows into a list."],
  ["hubspot", "HubSpot", "Keep a list in step with your HubSpot contacts, once or on a schedule."],
  ["salesforce", "Salesforce", "Keep a list in step with your Salesforce leads or contacts."],
];
export const PROVIDER_NAMES = Object.fromEntries(PROVIDERS.map(([id, name]) => [id, name]));
const WAIT_MS = 10 * 60 * 1000; // the authorization's state expires after 10 minutes

/**
 * Resolves the new connection, or null when `wait.cancelled` is set (the
 * person gave up) or the authorization expired.
 */
export async function connectWithOAuth(provider, ctl, wait) {
  const popup = window.open("", "leadpipe-oauth", "popup,width=640,height=760");
  if (!popup) {
    throw new Error("Your browser blocked the sign-in window: allow pop-ups for this site and try again, " +
      "or connect with a token instead.");
  }
  let known;
  try {
    known = new Set((await get("/connections")).items.map((c) => c.id));
    const redirect = new URL(`../oauth/${provider}/callback`, document.baseURI).toString();
    const {authorize_url: url} = await get(`/connections/${provider}/authorize`, {redirect_uri: redirect});
    popup.location.href = url;
  } catch (err) {
    popup.close();
    throw err;
  }
  const deadline = Date.now() + WAIT_MS;
  while (!wait.cancelled && Date.now() < deadline) {
    await ctl.sleep(1000);
    const found = (await get("/connections")).items.find((c) => c.provider === provider && !known.has(c.id));
    if (found) {
      try { popup.close(); } catch { /* no longer ours to close */ }
      return found;
    }
  }
  return null;
}

/** Connect with a token (no OAuth window); resolves the connection or null. */
export async function connectWithToken(provider) {
  const name = PROVIDER_NAMES[provider];
  const kind = h("select", {name: "kind"},
    h("option", {value: "access_token"}, "Access token"), h("option", {value: "refresh_token"}, "Refresh token"));
  const fields = [
    field("Connection name", h("input", {name: "name", value: name, maxlength: 100, autocomplete: "off"})),
    field("Token type", kind),
    field("Token", h("input", {name: "token", type: "password", required: true, autocomplete: "off"}),
      provider === "hubspot" ? "A private app's access token works." : "Stored encrypted, never shown again."),
  ];
  if (provider === "salesforce") {
    fields.push(field("Instance URL (with an access token)", h("input", {name: "instance_url", type: "url",
      placeholder: "https://yourorg.my.salesforce.com"})));
  }
  for (;;) {
    const values = await formDialog(`Connect ${name} with a token`, fields, {submitLabel: "Connect"});
    if (!values) return null;
    const body = {provider, name: values.name || name, [values.kind]: values.token};
    if (values.instance_url) body.instance_url = values.instance_url;
    try {
      return await post("/connections", body);
    } catch (err) {
      const listed = (err.details && err.details.errors) || [];
      toast(listed.length ? listed.map((e) => e.message).join(" ") : err.message, "error");
    }
  }
}

export const disconnect = (id) => del(`/connections/${encodeURIComponent(id)}`);
