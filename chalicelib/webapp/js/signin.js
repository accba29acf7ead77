// Sign in with a workspace token (`leadpipe token create`, or the link
// `make run` prints). The token is checked against the API before it is kept.
import {get, setToken} from "./api.js";
import {busy, field, h, mount} from "./dom.js";

export function renderSignIn(onSignedIn) {
  const input = h("input", {type: "password", name: "token", autocomplete: "off",
                            required: true, spellcheck: "false"});
  const error = h("p", {class: "field-error", role: "alert", hidden: true});
  const submit = h("button", {type: "submit", class: "primary"}, "Sign in");
  const form = h("form", {class: "card signin"},
    h("h1", {}, "Sign in to leadpipe"),
    h("p", {}, "Paste a workspace token. `make run` prints a link that signs you in; ",
      "`leadpipe token create` makes a new token."),
    field("Workspace token", input), error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const token = input.value.trim();
    try {
      await busy(submit, () => get("/lists", {limit: 1}, {token}), {quiet: true});
      setToken(token);
      onSignedIn();
    } catch (err) {
      error.textContent = err && err.status === 401
        ? "This token is not valid or was revoked. Check it and try again."
        : (err && err.message) || "Sign-in failed. Try again.";
      error.hidden = false;
      input.focus();
    }
  });
  mount(form);
  input.focus();
}
