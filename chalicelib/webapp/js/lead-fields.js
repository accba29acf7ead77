// What the lead table, the add-lead dialog and the lead panel share: the lead's
// display name, the statuses, and showing the API's per-field errors at the field.
import {h} from "./dom.js";

export const LEAD_STATUSES = ["new", "contacted", "replied", "qualified", "callback",
  "not_interested", "completed", "bounced", "unsubscribed", "invalid"];
export const EMAIL_STATUSES = ["pending", "valid", "risky", "invalid", "unknown", "none"];

// The verifier's reason codes (domain/deliverability.REASONS), said as a person would.
const REASONS = {
  mx_found: "The domain publishes mail servers (MX)",
  no_mx_a_fallback: "No MX record: mail would go to the domain's own address",
  disposable_domain: "A disposable (throw-away) email provider",
  role_address: "A role address (info@, sales@, ...) rather than a person",
  null_mx: "The domain says it accepts no email",
  no_mail_server: "The domain has no mail server",
  domain_not_found: "The domain does not exist",
  spf_reject_all: "The domain declares it sends and receives no email",
  special_use_domain: "A special-use domain that can never receive email",
  bad_syntax: "The address is not a valid email address",
  dns_timeout: "DNS did not answer in time; checked again later",
  dns_servfail: "DNS failed to answer; checked again later",
};

export function reasonText(code) {
  return code ? (REASONS[code] || code.replace(/_/g, " ")) : "";
}

/** "Ada Lovelace", else the email, phone or LinkedIn URL, else "Unnamed lead". */
export function leadName(lead) {
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(" ");
  return name || lead.email || lead.phone || lead.linkedin_url || "Unnamed lead";
}

/** "emails[2]" → "emails", "custom_fields.tier" stays: the key a form control carries. */
export function errorKey(field) {
  return String(field || "").replace(/\[\d+\]$/, "");
}

let errorSeq = 0;

/**
 * Mark the controls of `form` named in `errors` ({field: message}) invalid, with
 * the message under each and tied to it by aria-describedby. Returns the
 * errors no control of the form carries (to be said another way).
 */
export function showFieldErrors(form, errors) {
  clearFieldErrors(form);
  const left = {};
  let first = null;
  for (const [fieldName, message] of Object.entries(errors)) {
    const control = form.querySelector(`[name="${CSS.escape(errorKey(fieldName))}"]`);
    if (!control) { left[fieldName] = message; continue; }
    const id = `err-${++errorSeq}`;
    const text = fieldName === errorKey(fieldName) ? message : `${fieldName}: ${message}`;
    const note = h("p", {class: "field-error", id, "data-error-for": control.name}, text);
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", id);
    (control.closest(".field") || control.parentElement).append(note);
    first = first || control;
  }
  if (first) first.focus();
  return left;
}

export function clearFieldErrors(form) {
  for (const note of form.querySelectorAll(".field-error[data-error-for]")) note.remove();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    control.removeAttribute("aria-describedby");
  }
}

/** A labelled control whose label text also names it (`name` is what the API calls it). */
export function input(name, value, attrs = {}) {
  return h("input", {name, value: value ?? "", autocomplete: "off", ...attrs});
}
