// Employer pages: the organisation's postings, an upload of a CSV or
// JSON-LD file with each refused row's errors beside the row, and the
// opted-in candidates for a posting (contact details only where the seeker
// shared them with this organisation).

import { get, call, enc, ApiError } from "./api.js";
import { h, replace, announce, errorBox, sortableTable } from "./dom.js";
import { field, showErrors, clearErrors } from "./forms.js";

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
      await drawList(listSlot, s);
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
}

// listPages bounds how much of the organisation's list one page load
// reads: 10 pages of 100 postings.
const listPages = 10;

// reasonWords names why a posting is not open.
const reasonWords = {
  expired: "expired", stale: "stale", filled: "filled", withdrawn: "withdrawn",
  on_hold: "on hold", removed_from_feed: "removed from its feed",
};

// drawList shows the organisation's postings (GET
// /v1/employers/{org}/postings, newest first, following next_cursor),
// with a close or reopen control on each.
async function drawList(slot, s, message) {
  const list = [];
  let more = false;
  try {
    let cursor = "";
    for (let i = 0; i < listPages; i++) {
      const q = `?limit=100${cursor ? `&cursor=${enc(cursor)}` : ""}`;
      const res = await get(`/v1/employers/${enc(s.org)}/postings${q}`);
      list.push(...(res.postings || []));
      cursor = res.next_cursor || "";
      if (!cursor) break;
      more = i === listPages - 1;
    }
  } catch (err) {
    replace(slot, h("h2", { id: "list-h" }, "Your postings"), errorBox(err));
    return;
  }
  replace(slot,
    h("h2", { id: "list-h" }, "Your postings"),
    h("div", { id: "postings-message" }, message || null),
    more ? h("p", { class: "muted" }, `The newest ${list.length} postings; older ones are not shown.`) : null,
    h("div", { class: "table-wrap" }, sortableTable({
      id: "postings", caption: "Postings, their status, duplicates and age", rows: list, sort: slot.sort ??= {},
      columns: [
        { key: "title", label: "Title", value: (p) => p.title || "", cell: (p) => p.title || p.id },
        { key: "status", label: "Status", value: (p) => statusText(p), cell: (p) => h("span", { dataset: { statusOf: p.id } }, statusText(p)) },
        // cluster_size counts the open postings of the cluster, this one
        // included only while it is open.
        { key: "dups", label: "Duplicates", value: (p) => duplicates(p), cell: (p) => String(duplicates(p)) },
        { key: "age", label: "Age", value: (p) => p.age_days ?? -1, cell: (p) => p.age_days !== undefined ? `${p.age_days} days` : "—" },
        // candidate_count is given for open postings only (docs/postings.md).
        { key: "cands", label: "Candidates", value: (p) => p.candidate_count ?? -1, cell: (p) => h("a", { href: `#/postings/${enc(p.id)}/candidates` }, candidatesText(p), h("span", { class: "visually-hidden" }, ` for ${p.title}`)) },
        { key: "actions", label: "Close or reopen", cell: (p) => closeControls(slot, s, p) },
      ],
    })));
}

function statusText(p) {
  const status = String(p.status || "").replace(/_/g, " ");
  return p.reason && p.status !== "open" ? `${status}: ${reasonWords[p.reason] || p.reason}` : status;
}

function duplicates(p) {
  return Math.max(0, (p.cluster_size ?? 0) - (p.status === "open" ? 1 : 0));
}

// candidatesText names the opted-in candidates a posting has, or offers
// the list when the count is not known (a closed posting, matching away).
function candidatesText(p) {
  if (typeof p.candidate_count !== "number") return "See candidates";
  return p.candidate_count === 1 ? "1 candidate" : `${p.candidate_count} candidates`;
}

// closeControls closes an open posting with a reason (POST
// /v1/postings/{id}/close), or reopens one closed as withdrawn or on hold
// (POST /v1/postings/{id}/reopen). A filled posting does not reopen (the
// API answers 409): a new opening is a new posting. Expired, stale and
// feed-removed postings come back by being uploaded again. No reason is
// chosen beforehand (filled cannot be undone); closing without one gets the
// API's field error.
function closeControls(slot, s, p) {
  const act = async (what, path, body) => {
    let message;
    try {
      await call("POST", path, body ? { body } : {});
      message = h("p", { class: "ok" }, `${p.title} ${what}.`);
      announce(`${p.title} ${what}.`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        err.message = `${p.title} cannot be ${what}: ${err.message}`;
      }
      message = errorBox(err);
    }
    await drawList(slot, s, message);
  };
  if (p.status === "open") {
    const reason = h("select", { "aria-label": `Why close ${p.title}`, dataset: { reasonOf: p.id } },
      h("option", { value: "", selected: true }, "Reason…"),
      ["filled", "withdrawn", "on_hold"].map((r) => h("option", { value: r }, reasonWords[r])));
    return h("span", { class: "close-controls" }, reason, " ", h("button", {
      type: "button", class: "secondary", dataset: { close: p.id },
      onclick: () => act("closed", `/v1/postings/${enc(p.id)}/close`, { reason: reason.value }),
    }, `Close ${p.title}`));
  }
  if (p.status === "closed" && (p.reason === "withdrawn" || p.reason === "on_hold")) {
    return h("button", {
      type: "button", class: "secondary", dataset: { reopen: p.id },
      onclick: () => act("reopened", `/v1/postings/${enc(p.id)}/reopen`),
    }, `Reopen ${p.title}`);
  }
  return h("span", { class: "muted", dataset: { noReopen: p.id } },
    p.reason === "filled" ? "Filled: post a new opening to hire again." : "Upload it again to reopen.");
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
