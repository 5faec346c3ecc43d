// Forms with the API's field-level errors shown next to the fields: each
// control carries data-field with the API's name for it
// ("experience[0].months", "location.postal_code"), and an error the API
// names lands beside that control, in an error summary at the top that
// links to it, and in the control's accessible description.

import { h } from "./dom.js";

let serial = 0;

// field wraps a control with its label, an optional hint and the place for
// its error. control must have data-field; an id is given when missing.
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++serial}`;
  const hintEl = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  const errEl = h("p", { class: "field-error", id: `${control.id}-error`, hidden: true });
  control.setAttribute("aria-describedby", [hintEl?.id, errEl.id].filter(Boolean).join(" "));
  const wrapper = h("div", { class: control.type === "checkbox" ? "field check" : "field" });
  if (control.type === "checkbox") wrapper.append(control, h("label", { for: control.id }, label));
  else wrapper.append(h("label", { for: control.id }, label), control);
  if (hintEl) wrapper.append(hintEl);
  wrapper.append(errEl);
  return wrapper;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".field-error")) {
    el.textContent = "";
    el.hidden = true;
  }
  const summary = form.querySelector(".error-summary");
  if (summary) summary.remove();
}

// controlFor finds the control an API field name belongs to: the exact
// name, else the longest named prefix ("skills[3]" -> "skills").
function controlFor(form, name) {
  const controls = [...form.querySelectorAll("[data-field]")];
  const exact = controls.find((c) => c.dataset.field === name);
  if (exact) return exact;
  let best = null;
  for (const c of controls) {
    const f = c.dataset.field;
    if ((name.startsWith(f + "[") || name.startsWith(f + ".")) && (!best || f.length > best.dataset.field.length)) best = c;
  }
  return best;
}

// showErrors puts each field error beside its control and a summary at the
// top of the form, then moves focus to the summary so keyboard and
// screen-reader users land on it.
export function showErrors(form, err) {
  clearErrors(form);
  const items = [];
  for (const fe of err.fields || []) {
    const c = controlFor(form, fe.field);
    if (c) {
      c.setAttribute("aria-invalid", "true");
      const errEl = document.getElementById(`${c.id}-error`);
      if (errEl) {
        errEl.hidden = false;
        errEl.append(errEl.textContent ? "; " : "", fe.message);
      }
      items.push(h("li", {}, h("a", { href: `#${c.id}`, onclick: (e) => { e.preventDefault(); c.focus(); } }, labelOf(c)), `: ${fe.message}`));
    } else {
      items.push(h("li", {}, h("code", {}, fe.field), `: ${fe.message}`));
    }
  }
  const summary = h("div", { class: "error-summary", role: "alert", tabindex: "-1" },
    h("h2", {}, items.length ? "Please fix these and save again" : "Not saved"),
    items.length ? h("ul", {}, items) : h("p", {}, err.message));
  form.prepend(summary);
  summary.focus();
}

function labelOf(control) {
  const l = control.labels?.[0];
  return l ? l.textContent : control.dataset.field;
}

// select makes a <select> of values, each shown with its words.
export function select(name, values, current, attrs = {}) {
  return h("select", { "data-field": name, name, ...attrs },
    values.map((v) => h("option", { value: v, selected: v === current }, v === "" ? "—" : String(v).replace(/_/g, " "))));
}
