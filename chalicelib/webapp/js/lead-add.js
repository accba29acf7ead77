// "Add lead": a form dialog that stays open while the API says what is wrong,
// each message at its field; a duplicate says which lead already exists.
import {ApiError, post} from "./api.js";
import {busy, describeError, field, h, toast} from "./dom.js";
import {clearFieldErrors, input, showFieldErrors} from "./lead-fields.js";

const FIELDS = [["first_name", "First name"], ["last_name", "Last name"],
  ["email", "Email", "email"], ["phone", "Phone", "tel"], ["company", "Company"],
  ["job_title", "Job title"]];

/** Resolves {lead} once created, {open: leadId} to show an existing lead, or null. */
export function addLeadDialog(listId) {
  return new Promise((resolve) => {
    const submit = h("button", {type: "submit", class: "primary"}, "Add lead");
    const cancel = h("button", {type: "button", class: "ghost"}, "Cancel");
    const problem = h("div", {class: "form-problem", role: "alert"});
    const form = h("form", {novalidate: true}, h("h2", {}, "Add a lead"),
      FIELDS.map(([name, label, type]) => field(label, input(name, "", {type: type || "text"}))),
      problem, h("div", {class: "actions"}, cancel, submit));
    const dialog = h("dialog", {class: "dialog", "aria-label": "Add a lead"}, form);
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      problem.replaceChildren();
      const body = {};
      for (const [name, value] of new FormData(form).entries()) {
        if (value.trim()) body[name] = value.trim();
      }
      try {
        const lead = await busy(submit, () => post(`/lists/${encodeURIComponent(listId)}/leads`, body),
                                {quiet: true});
        toast("Lead added.");
        done({lead});
      } catch (err) {
        showProblem(err);
      }
    });

    function showProblem(err) {
      if (err instanceof ApiError && err.status === 409 && err.details.lead_id) {
        showFieldErrors(form, {[err.details.identity || "email"]: err.message});
        problem.replaceChildren(h("p", {}, "Change it, or open that lead instead."),
          h("button", {type: "button", onclick: () => done({open: err.details.lead_id})},
            "Open the existing lead"));
        return;
      }
      if (err instanceof ApiError && err.status === 400 && Object.keys(err.fieldErrors).length) {
        const left = showFieldErrors(form, err.fieldErrors);
        const rest = Object.entries(left).map(([f, m]) => `${f}: ${m}`);
        problem.replaceChildren(h("p", {}, rest.length ? rest.join("; ")
          : "Fix the highlighted fields, then add the lead again."));
        return;
      }
      problem.replaceChildren(h("p", {}, describeError(err)));
    }

    cancel.addEventListener("click", () => done(null));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); done(null); });
    document.body.append(dialog);
    dialog.showModal();
    form.querySelector("input").focus();
  });
}
