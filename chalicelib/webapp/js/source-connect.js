// Connecting a provider: the OAuth authorization-code flow in this tab, or a
// token pasted by hand (a HubSpot private app's token, for instance).
//
// The tab goes to the provider's consent page; the provider sends it to the
// API's callback, which exchanges the code, creates the connection and sends
// the browser back to #/sources?connected=<id> (or ?oauth_error=<code>). The
// token stays in this tab's session storage meanwhile, so the app comes back
// signed in. One tab, no pop-up to be blocked, nothing to poll.
import {del, get, post} from "./api.js";
import {field, formDialog, h, toast} from "./dom.js";

export const PROVIDERS = [
  ["google_sheets", "Google Sheets", "Import a spreadsheet's rows into a list."],
  ["hubspot", "HubSpot", "Keep a list in step with your HubSpot contacts, once or on a schedule."],
  ["salesforce", "Salesforce", "Keep a list in step with your Salesforce leads or contacts."],
];
export const PROVIDER_NAMES = Object.fromEntries(PROVIDERS.map(([id, name]) => [id, name]));

/** Send this tab to the provider's consent page (it comes back to #/sources). */
export async function connectWithOAuth(provider) {
  const redirect = new URL(`../oauth/${provider}/callback`, document.baseURI).toString();
  const {authorize_url: url} = await get(`/connections/${provider}/authorize`, {redirect_uri: redirect});
  location.assign(url);
}

const OAUTH_ERRORS = {
  authorization_denied: "was not allowed on its consent page",
  invalid_state: "took too long or was started elsewhere: connect again",
  provider_unavailable: "could not be reached: try again in a moment",
  invalid_callback: "sent back no authorization: connect again",
  reauthorize: "refused the authorization: connect again",
  too_many_connections: "was not connected: this workspace has too many connections; remove one first",
};

/** What the callback sent back in the address: a toast, then a clean address. */
export function announceOAuthOutcome(query) {
  const provider = PROVIDER_NAMES[query.get("provider")] || "The provider";
  if (query.get("connected")) toast(`${provider} connected.`);
  const error = query.get("oauth_error");
  if (error) {
    toast(`${provider} ${OAUTH_ERRORS[error] || `was not connected (${error}): try again`}.`, "error");
  }
  if (query.get("connected") || error) {
    history.replaceState(null, "", `${location.pathname}${location.search}#/sources`);
  }
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
