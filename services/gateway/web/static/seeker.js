// Seeker pages: the profile form (field errors from the API beside the
// fields), matches with "how you match", the plan, and privacy: opt-in,
// consent to employers, counselors, contact details, export and delete.

import { get, call, enc, signOut, ApiError } from "./api.js";
import { h, replace, announce, errorBox } from "./dom.js";
import { field, select, showErrors, clearErrors } from "./forms.js";
import { matchList, nearMissList, planTimeline, renewalsList } from "./views.js";

const levels = ["high_school", "certificate", "associate", "bachelor", "master"];
const statuses = ["completed", "final_term", "in_progress"];
const areas = ["records", "coding", "release_of_information", "privacy_security", "data_analysis", "billing"];
const remote = ["any", "onsite", "hybrid", "remote"];
const availability = ["", "immediately", "two_weeks", "one_month", "later"];

const listFields = [
  ["skills", "Skills", "Comma-separated, such as chart_analysis, release_of_information"],
  ["code_sets", "Code sets", "Such as ICD-10-CM, CPT, HCPCS"],
  ["ehr_systems", "EHR systems", "Such as Epic, Cerner"],
  ["trainings", "Trainings", "Catalog codes, such as aapc_80_hour_course"],
];

async function loadProfile(id) {
  try {
    return await get(`/v1/seekers/${enc(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export async function profilePage(view, _params, s) {
  let profile;
  try {
    profile = await loadProfile(s.sub);
  } catch (err) {
    replace(view, h("h1", {}, "Your profile"), errorBox(err));
    return;
  }
  const p = profile || { education: [], experience: [] };
  const form = h("form", { novalidate: true, id: "profile-form" });
  const eduRows = h("div", { id: "education-rows" });
  const expRows = h("div", { id: "experience-rows" });

  const eduRow = (e, i) => h("fieldset", { class: "row", dataset: { index: i } },
    h("legend", {}, `Education ${i + 1}`),
    field("Level", select(`education[${i}].level`, levels, e.level, { id: `edu-${i}-level` })),
    field("Status", select(`education[${i}].status`, statuses, e.status, { id: `edu-${i}-status` })),
    field("CAHIIM-accredited HIM program", h("input", { type: "checkbox", id: `edu-${i}-cahiim`, "data-field": `education[${i}].cahiim_accredited`, checked: !!e.cahiim_accredited })),
    h("button", { type: "button", class: "secondary", onclick: () => { collect(); p.education.splice(i, 1); drawRows(); } }, `Remove education ${i + 1}`));
  const expRow = (x, i) => h("fieldset", { class: "row", dataset: { index: i } },
    h("legend", {}, `Experience ${i + 1}`),
    field("Area", select(`experience[${i}].area`, areas, x.area, { id: `exp-${i}-area` })),
    field("Months", h("input", { type: "number", id: `exp-${i}-months`, "data-field": `experience[${i}].months`, value: x.months ?? 0, inputmode: "numeric" })),
    h("button", { type: "button", class: "secondary", onclick: () => { collect(); p.experience.splice(i, 1); drawRows(); } }, `Remove experience ${i + 1}`));
  const drawRows = () => {
    replace(eduRows, (p.education || []).map(eduRow));
    replace(expRows, (p.experience || []).map(expRow));
  };

  const byId = (id) => form.querySelector(`#${id}`);
  // collect reads the form into p, keeping what the form does not show
  // (an education's field of study, for example), so a save never erases it.
  const collect = () => {
    p.education = (p.education || []).map((e, i) => ({
      ...e, level: byId(`edu-${i}-level`).value, status: byId(`edu-${i}-status`).value,
      cahiim_accredited: byId(`edu-${i}-cahiim`).checked || undefined,
    }));
    p.experience = (p.experience || []).map((x, i) => ({ area: byId(`exp-${i}-area`).value, months: numberOrText(byId(`exp-${i}-months`).value) }));
    for (const [name] of listFields) {
      p[name] = byId(name).value.split(",").map((v) => v.trim()).filter(Boolean);
    }
    const zip = byId("postal_code").value.trim();
    p.location = zip ? { postal_code: zip } : undefined;
    p.radius_miles = numberOrText(byId("radius_miles").value);
    p.remote_preference = byId("remote_preference").value;
    p.desired_hourly = numberOrText(byId("desired_hourly").value);
    p.availability = byId("availability").value || undefined;
    p.target = byId("target").value.trim() || undefined;
    p.open_to_employers = byId("open_to_employers").checked;
  };

  const saved = h("p", { id: "saved", class: "ok", role: "status" });
  form.append(
    h("h2", {}, "Education"), eduRows,
    h("button", { type: "button", class: "secondary", onclick: () => { collect(); p.education.push({ level: "high_school", status: "completed" }); drawRows(); } }, "Add education"),
    h("h2", {}, "Experience"), expRows,
    h("button", { type: "button", class: "secondary", onclick: () => { collect(); p.experience.push({ area: "records", months: 0 }); drawRows(); } }, "Add experience"),
    h("h2", {}, "Skills"),
    ...listFields.map(([name, label, hint]) => field(label, h("input", { type: "text", id: name, "data-field": name, value: (p[name] || []).join(", ") }), hint)),
    h("h2", {}, "Where and what"),
    field("ZIP code", h("input", { type: "text", id: "postal_code", "data-field": "location.postal_code", value: p.location?.postal_code || "", autocomplete: "postal-code", inputmode: "numeric" })),
    field("Commute radius (miles)", h("input", { type: "number", id: "radius_miles", "data-field": "radius_miles", value: p.radius_miles ?? "" }), "0 or empty means 25 miles."),
    field("Remote work", select("remote_preference", remote, p.remote_preference || "any", { id: "remote_preference" })),
    field("Desired pay ($ per hour)", h("input", { type: "number", id: "desired_hourly", "data-field": "desired_hourly", step: "0.01", value: p.desired_hourly ?? "" })),
    field("Available to start", select("availability", availability, p.availability || "", { id: "availability" })),
    field("Target credential", h("input", { type: "text", id: "target", "data-field": "target", value: p.target || "" }), "Such as RHIT or CCS; the plan leads there."),
    field("Show me to employers as a candidate (matching attributes only, never contact details)",
      h("input", { type: "checkbox", id: "open_to_employers", "data-field": "open_to_employers", checked: !!p.open_to_employers })),
    h("button", { type: "submit" }, "Save profile"), saved);
  drawRows();

  let version = profile?.version;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    saved.textContent = "";
    collect();
    const body = { ...p };
    delete body.version;
    delete body.id;
    const headers = version !== undefined ? { "If-Match": `"${version}"` } : {};
    try {
      const out = await call("PUT", `/v1/seekers/${enc(s.sub)}`, { body, headers });
      version = out.version;
      clearErrors(form);
      saved.textContent = "Saved. Matches and your plan update within seconds.";
    } catch (err) {
      if (err.status === 412) err.message = "Your profile changed elsewhere since this page loaded: reload the page, then save again.";
      showErrors(form, err);
    }
  });
  replace(view,
    h("h1", {}, "Your profile"),
    h("p", {}, profile ? "What matching uses. Contact details are kept apart, under Privacy and data." : "No profile yet: fill this in to get matches and a plan."),
    form);
}

// numberOrText sends numbers as numbers and anything else as typed, so the
// API (not the page) says what is wrong with it.
function numberOrText(v) {
  if (v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

export async function matchesPage(view, _params, s) {
  let m;
  try {
    m = await get(`/v1/seekers/${enc(s.sub)}/matches`);
  } catch (err) {
    replace(view, h("h1", {}, "Your matches"), errorBox(err));
    return;
  }
  replace(view,
    h("h1", {}, "Your matches"),
    m.location_note ? h("p", { class: "muted" }, m.location_note) : null,
    h("section", { "aria-labelledby": "m-h" }, h("h2", { id: "m-h" }, "Jobs you qualify for"), matchList(m.matches || [])),
    h("section", { "aria-labelledby": "n-h" }, h("h2", { id: "n-h" }, "Near misses: one step away"), nearMissList(m.near_misses || [])));
}

export async function planPage(view, _params, s) {
  let plan;
  try {
    plan = await get(`/v1/seekers/${enc(s.sub)}/plan`);
  } catch (err) {
    replace(view, h("h1", {}, "Your plan"), errorBox(err));
    return;
  }
  replace(view,
    h("h1", {}, "Your plan"),
    h("section", { "aria-labelledby": "p-h" }, h("h2", { id: "p-h" }, "Route"), planTimeline(plan)),
    h("section", { "aria-labelledby": "r-h" }, h("h2", { id: "r-h" }, "Renewals"), renewalsList(plan.recertification || [])));
}

export async function privacyPage(view, _params, s) {
  const base = `/v1/seekers/${enc(s.sub)}`;
  let exp;
  try {
    exp = await get(`${base}/export`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      replace(view, h("h1", {}, "Privacy and data"), h("p", {}, "Nothing stored about you yet. ", h("a", { href: "#/profile" }, "Create your profile"), " first."));
      return;
    }
    replace(view, h("h1", {}, "Privacy and data"), errorBox(err));
    return;
  }
  const rel = exp.relations || { employers: [], counselors: [] };
  const rerender = () => privacyPage(view, [], s).then(() => view.querySelector("h1")?.focus());

  // Contact details: kept sealed, shown only to organisations consented to.
  const contactForm = h("form", { novalidate: true, id: "contact-form" },
    field("Name to show", h("input", { type: "text", id: "display_name", "data-field": "display_name", value: exp.contact?.display_name || "", autocomplete: "name" })),
    field("Email", h("input", { type: "email", id: "email", "data-field": "email", value: exp.contact?.email || "", autocomplete: "email" })),
    field("Phone", h("input", { type: "tel", id: "phone", "data-field": "phone", value: exp.contact?.phone || "", autocomplete: "tel" })),
    h("button", { type: "submit" }, "Save contact details"));
  contactForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { display_name: contactForm.querySelector("#display_name").value.trim() };
    for (const k of ["email", "phone"]) {
      const v = contactForm.querySelector(`#${k}`).value.trim();
      if (v) body[k] = v;
    }
    try {
      await call("PUT", `${base}/contact`, { body });
      clearErrors(contactForm);
      announce("Contact details saved.");
    } catch (err) {
      showErrors(contactForm, err);
    }
  });

  const relationForm = (id, label, hint, path) => {
    const input = h("input", { type: "text", id, "data-field": id, autocomplete: "off" });
    const form = h("form", { novalidate: true }, field(label, input, hint), h("button", { type: "submit" }, "Add"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await call("PUT", `${base}/${path}/${enc(input.value.trim())}`);
        await rerender();
      } catch (err) {
        showErrors(form, err);
      }
    });
    return form;
  };
  const relationList = (items, path, what) => items.length
    ? h("ul", { class: "relations" }, items.map((x) => h("li", {}, h("span", {}, x), " ",
      h("button", {
        type: "button", class: "secondary", onclick: async () => {
          try {
            await call("DELETE", `${base}/${path}/${enc(x)}`);
            await rerender();
          } catch (err) {
            view.prepend(errorBox(err));
          }
        },
      }, `Withdraw from ${x}`))))
    : h("p", {}, `No ${what} yet.`);

  // Export: the same JSON the API answers, saved as a file.
  const exportURL = URL.createObjectURL(new Blob([JSON.stringify(exp, null, 2)], { type: "application/json" }));
  const exportLink = h("a", {
    href: exportURL,
    download: `clerkpath-${s.sub}.json`, id: "export",
  }, "Download everything clerkpath holds about you (JSON)");

  const confirmBox = h("input", { type: "checkbox", id: "confirm-delete", "data-field": "confirm" });
  const deleteForm = h("form", { novalidate: true, id: "delete-form" },
    field("I understand: my profile, contact details, credentials, matches and access log are deleted for good.", confirmBox),
    h("button", { type: "submit", class: "danger" }, "Delete my data"));
  deleteForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!confirmBox.checked) {
      showErrors(deleteForm, { fields: [{ field: "confirm", message: "tick the box to confirm" }] });
      return;
    }
    try {
      await call("DELETE", base);
      signOut();
      location.hash = "#/signin";
    } catch (err) {
      showErrors(deleteForm, err);
    }
  });

  replace(view,
    h("h1", {}, "Privacy and data"),
    h("section", { "aria-labelledby": "c-h" }, h("h2", { id: "c-h" }, "Contact details"),
      h("p", {}, "Sealed with your own key, never searchable, shown only to employers you share them with below."), contactForm),
    h("section", { "aria-labelledby": "e-h" }, h("h2", { id: "e-h" }, "Employers who may see your contact details"),
      h("p", {}, `Employers ${exp.seeker?.open_to_employers ? "can" : "cannot"} see you as a candidate (change it on your profile).`),
      relationList(rel.employers || [], "consents", "employers"),
      relationForm("consent-org", "Share contact details with organisation", "The organisation id, such as mercy.", "consents")),
    h("section", { "aria-labelledby": "k-h" }, h("h2", { id: "k-h" }, "Counselors"),
      relationList(rel.counselors || [], "counselors", "counselors"),
      relationForm("counselor-id", "Link a counselor", "Your counselor's id. They then see your profile, plan, matches and notes.", "counselors")),
    h("section", { "aria-labelledby": "a-h" }, h("h2", { id: "a-h" }, "Who read your data"),
      (exp.access_log || []).length ? h("ul", {}, exp.access_log.slice(-20).reverse().map((a) => h("li", {}, `${a.actor} (${a.role}) ${a.org ? " of " + a.org : ""} read your ${a.action} on ${new Date(a.at).toLocaleString()}`)))
        : h("p", {}, "Nobody but you.")),
    h("section", { "aria-labelledby": "x-h" }, h("h2", { id: "x-h" }, "Export"), h("p", {}, exportLink)),
    h("section", { "aria-labelledby": "d-h" }, h("h2", { id: "d-h" }, "Delete"), deleteForm));
  return () => URL.revokeObjectURL(exportURL);
}
