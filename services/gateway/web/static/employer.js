// Employer pages: the organisation's postings, an upload of a CSV or
// JSON-LD file with each refused row's errors beside the row, and the
// opted-in candidates for a posting (contact details only where the seeker
// shared them with this organisation).

import { get, call, enc, ApiError } from "./api.js";
import { h, replace, announce, errorBox, sortableTable } from "./dom.js";
import { field, showErrors, clearErrors } from "./forms.js";

// The postings this tab uploaded, for the list until the API lists an
// organisation's postings itself.
const uploadedKey = "clerkpath.uploaded";

function uploaded() {
  try {
    return JSON.parse(sessionStorage.getItem(uploadedKey) || "[]");
  } catch {
    return [];
  }
}

function remember(items) {
  const seen = new Map(uploaded().map((p) => [p.id, p]));
  for (const p of items) seen.set(p.id, p);
  sessionStorage.setItem(uploadedKey, JSON.stringify([...seen.values()].slice(-500)));
}

// contentTypeOf picks the Content-Type the bulk endpoint wants from the
// file's name, and for .json from whether it is JSON-LD.
async function contentTypeOf(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith(".csv")) return "text/csv";
  if (name.endsWith(".jsonld")) return "application/ld+json";
  if (name.endsWith(".ndjson") || name.endsWith(".jsonl")) return "application/x-ndjson";
  if (name.endsWith(".json")) {
    const head = await file.slice(0, 4096).text();
    return head.includes('"@context"') ? "application/ld+json" : "application/json";
  }
  return file.type || "";
}

export async function postingsPage(view, _params, s) {
  let stopped = false;
  const listSlot = h("section", { "aria-labelledby": "list-h" });
  const results = h("section", { id: "upload-results", "aria-labelledby": "results-h", hidden: true });

  const fileInput = h("input", { type: "file", id: "file", name: "file", "data-field": "file", accept: ".csv,.json,.jsonld,.ndjson,.jsonl,text/csv,application/json,application/ld+json" });
  const columns = h("input", { type: "text", id: "columns", name: "columns", "data-field": "columns", autocomplete: "off" });
  const form = h("form", { novalidate: true, id: "upload-form" },
    field("Postings file", fileInput, "CSV with a header row, JSON, NDJSON or schema.org JobPosting JSON-LD."),
    field("Column names (optional)", columns, "For a CSV with its own headers: Job Title:title,Zip:postal_code,…"),
    h("button", { type: "submit" }, "Upload"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const file = fileInput.files[0];
    if (!file) {
      showErrors(form, { fields: [{ field: "file", message: "choose a file to upload" }] });
      return;
    }
    const q = columns.value.trim() ? `?columns=${enc(columns.value.trim())}` : "";
    try {
      const res = await call("POST", `/v1/postings:bulk${q}`, { body: file, contentType: await contentTypeOf(file) });
      const text = await file.text();
      showResults(results, res, file, text);
      const accepted = (res.accepted || []).map((a) => ({ id: a.id, title: recordTitle(file, text, a.index), status: a.status }));
      remember(accepted);
      await drawList(listSlot, s);
      // A CSV row's title is known once the posting is readable, a few
      // seconds after it is stored; fill the titles in as they come.
      for (const a of accepted.filter((x) => !x.title).slice(0, 100)) {
        postingSoon(a.id, () => stopped).then(async (p) => {
          if (!p || stopped) return;
          remember([{ ...a, title: p.title }]);
          await drawList(listSlot, s);
        });
      }
    } catch (err) {
      showErrors(form, err);
    }
  });

  replace(view,
    h("h1", {}, "Postings"),
    h("p", {}, `Organisation ${s.org}.`),
    h("section", { "aria-labelledby": "up-h" }, h("h2", { id: "up-h" }, "Upload postings"), form),
    results,
    listSlot);
  await drawList(listSlot, s);
  return () => { stopped = true; };
}

// drawList shows the organisation's postings from GET
// /v1/employers/{org}/postings when the gateway has it, else the postings
// this tab uploaded.
async function drawList(slot, s) {
  let list = null;
  let note = null;
  let managed = false;
  try {
    const res = await get(`/v1/employers/${enc(s.org)}/postings`);
    list = res.postings || [];
    managed = true;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && err.code === "not_found")) {
      replace(slot, h("h2", { id: "list-h" }, "Your postings"), errorBox(err));
      return;
    }
    list = uploaded();
    note = "Postings uploaded from this browser tab (this gateway does not list an organisation's postings).";
  }
  replace(slot,
    h("h2", { id: "list-h" }, "Your postings"),
    note ? h("p", { class: "muted" }, note) : null,
    h("div", { class: "table-wrap" }, sortableTable({
      id: "postings", caption: "Postings, their status and candidates", rows: list,
      columns: [
        { key: "title", label: "Title", value: (p) => p.title || "", cell: (p) => p.title || p.id },
        { key: "status", label: "Status", value: (p) => p.status || "", cell: (p) => String(p.status || "").replace(/_/g, " ") },
        { key: "dups", label: "Duplicates", value: (p) => p.cluster_size ?? 0, cell: (p) => p.cluster_size !== undefined ? String(Math.max(0, p.cluster_size - 1)) : "—" },
        { key: "age", label: "Age", value: (p) => p.age_days ?? -1, cell: (p) => p.age_days !== undefined ? `${p.age_days} days` : "—" },
        { key: "cands", label: "Candidates", value: (p) => p.candidates ?? -1, cell: (p) => h("a", { href: `#/postings/${enc(p.id)}/candidates` }, p.candidates !== undefined ? `${p.candidates} candidates` : "See candidates") },
        ...(managed ? [{ key: "actions", label: "Close or reopen", cell: (p) => closeControls(slot, s, p) }] : []),
      ],
    })));
}

// closeControls closes an open posting with a reason, or reopens a
// closed one (POST /v1/postings/{id}:close and :reopen).
function closeControls(slot, s, p) {
  if (p.status !== "open") {
    return p.status === "closed" ? h("button", {
      type: "button", class: "secondary", onclick: async () => {
        try {
          await call("POST", `/v1/postings/${enc(p.id)}:reopen`);
          announce(`${p.title} reopened.`);
          await drawList(slot, s);
        } catch (err) {
          slot.prepend(errorBox(err));
        }
      },
    }, `Reopen ${p.title}`) : "";
  }
  const reason = h("select", { "aria-label": `Why close ${p.title}` },
    ["filled", "withdrawn", "on_hold"].map((r) => h("option", { value: r }, r.replace(/_/g, " "))));
  return h("span", { class: "close-controls" }, reason, " ", h("button", {
    type: "button", class: "secondary", onclick: async () => {
      try {
        await call("POST", `/v1/postings/${enc(p.id)}:close`, { body: { reason: reason.value } });
        announce(`${p.title} closed.`);
        await drawList(slot, s);
      } catch (err) {
        slot.prepend(errorBox(err));
      }
    },
  }, `Close ${p.title}`));
}

// postingSoon reads a posting just uploaded: it is searchable (and so
// readable) seconds after it is stored; try for half a minute.
async function postingSoon(id, stopped) {
  for (let i = 0; i < 30 && !stopped(); i++) {
    try {
      return await get(`/v1/postings/${enc(id)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) return null;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return null;
}

function recordTitle(file, text, index) {
  if (/\.csv$/i.test(file.name)) return "";
  try {
    const v = JSON.parse(text);
    const arr = Array.isArray(v) ? v : (v["@graph"] || [v]);
    return arr[index]?.title || "";
  } catch {
    return "";
  }
}

// showResults lists every record of the upload in file order: accepted
// with their id and status, refused with each error next to the row.
function showResults(section, res, file, text) {
  const lines = text.split(/\r?\n/);
  const rows = [
    ...(res.accepted || []).map((a) => ({ index: a.index, ok: true, a })),
    ...(res.rejected || []).map((r) => ({ index: r.index, ok: false, r })),
  ].sort((x, y) => x.index - y.index);
  const rejected = (res.rejected || []).length;
  replace(section,
    h("h2", { id: "results-h", tabindex: "-1" }, "Upload results"),
    h("p", { class: rejected ? "warn" : "ok" },
      `${(res.accepted || []).length} accepted, ${rejected} refused from ${file.name}.`,
      rejected ? " Fix the refused rows and upload them again; accepted rows are stored and never double." : ""),
    h("div", { class: "table-wrap" }, h("table", { class: "data", id: "results" },
      h("caption", {}, "Each record of the file and what became of it"),
      h("thead", {}, h("tr", {}, ["Record", "Line", "Content", "Result"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((x) => {
        const line = x.r?.line;
        const content = line ? lines[line - 1] || "" : recordTitle(file, text, x.index);
        return h("tr", { class: x.ok ? "" : "rejected", id: `record-${x.index}` },
          h("th", { scope: "row" }, String(x.index + 1)),
          h("td", { "data-label": "Line" }, line ? String(line) : "—"),
          h("td", { "data-label": "Content" }, h("code", { class: "raw" }, content.length > 160 ? content.slice(0, 160) + "…" : content)),
          h("td", { "data-label": "Result" }, x.ok
            ? [h("span", { class: "ok" }, x.a.status), " ", h("a", { href: `#/postings/${enc(x.a.id)}/candidates` }, x.a.id)]
            : h("ul", { class: "row-errors" }, x.r.errors.map((e) => h("li", {}, h("code", {}, e.field), `: ${e.message}`)))));
      })))));
  section.hidden = false;
  section.querySelector("h2").focus();
  announce(`${(res.accepted || []).length} accepted, ${rejected} refused.`);
}

export async function candidatesPage(view, [id], s) {
  let posting, cands;
  try {
    [posting, cands] = await Promise.all([get(`/v1/postings/${enc(id)}`), get(`/v1/postings/${enc(id)}/candidates`)]);
  } catch (err) {
    replace(view, h("p", {}, h("a", { href: "#/postings" }, "← Postings")), h("h1", {}, "Candidates"), errorBox(err));
    return;
  }
  const contactCell = (c) => {
    const slot = h("span", {});
    slot.append(h("button", {
      type: "button", class: "secondary", onclick: async () => {
        try {
          const ct = await get(`/v1/seekers/${enc(c.seeker_id)}/contact`);
          replace(slot, [ct.display_name, ct.email, ct.phone].filter(Boolean).join(" · "));
        } catch (err) {
          replace(slot, err instanceof ApiError && (err.status === 404 || err.status === 403)
            ? `Not shared with ${s.org}` : err.message);
        }
      },
    }, `Contact details of ${c.seeker_id}`));
    return slot;
  };
  replace(view,
    h("p", {}, h("a", { href: "#/postings" }, "← Postings")),
    h("h1", {}, `Candidates for ${posting.title}`),
    h("p", {}, `${cands.total} opted-in seeker${cands.total === 1 ? "" : "s"} qualif${cands.total === 1 ? "ies" : "y"}. Matching attributes only; contact details appear only where the seeker shared them with your organisation, and each read is in the seeker's access log.`),
    h("div", { class: "table-wrap" }, sortableTable({
      id: "candidates", caption: "Qualified candidates", rows: cands.candidates || [], sort: { key: "score", dir: "descending" },
      columns: [
        { key: "seeker", label: "Candidate", value: (c) => c.seeker_id, cell: (c) => c.seeker_id },
        { key: "score", label: "Score", value: (c) => c.score, cell: (c) => `${Math.round(c.score)}/100` },
        { key: "creds", label: "Credentials", value: (c) => (c.credentials || []).join(", "), cell: (c) => (c.credentials || []).join(", ") || "none" },
        { key: "exp", label: "Experience", value: (c) => c.experience_months, cell: (c) => `${c.experience_months} months` },
        { key: "dist", label: "Distance", value: (c) => c.distance_miles ?? 1e9, cell: (c) => typeof c.distance_miles === "number" ? `${c.distance_miles.toFixed(1)} mi` : "—" },
        { key: "contact", label: "Contact", cell: contactCell },
      ],
    })));
  announce(`${cands.total} candidates.`);
}
