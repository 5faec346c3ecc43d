// Counselor pages: the caseload against the local market, the cohort's
// best unlock, and one client's plan, matches and notes.

import { get, call, enc, ApiError } from "./api.js";
import { h, replace, announce, errorBox, sortableTable } from "./dom.js";
import { matchList, nearMissList, planTimeline, renewalsList, renewalsDue } from "./views.js";
import { follow } from "./live.js";

// caseloadPage shows every client in one sortable, filterable table and
// keeps it current: from the server-sent events stream when the gateway
// has one, else by polling.
export async function caseloadPage(view, _params, s) {
  const path = `/v1/counselors/${enc(s.sub)}/caseload`;
  let data;
  try {
    data = await loadCaseload(path);
  } catch (err) {
    replace(view, h("h1", {}, "Caseload"), errorBox(err));
    return;
  }
  const tableSlot = h("div", { class: "table-wrap" });
  const cohortSlot = h("section", { "aria-labelledby": "cohort-h" });
  const changes = h("ul", { id: "changes", class: "changes", "aria-live": "polite" });
  const liveState = h("p", { class: "muted", id: "live-state" }, "Live updates: connecting…");
  const filterText = h("input", { id: "filter", type: "search", name: "filter", autocomplete: "off" });
  const filterKind = h("select", { id: "show", name: "show" },
    h("option", { value: "all" }, "All clients"),
    h("option", { value: "matched" }, "With a match"),
    h("option", { value: "near" }, "With near misses"),
    h("option", { value: "renewals" }, "With renewals due"));

  const sort = {}; // the caseload's order survives live redraws
  const draw = () => {
    const q = filterText.value.trim().toLowerCase();
    const rows = data.rows.filter((r) => {
      if (q && !r.search.includes(q)) return false;
      switch (filterKind.value) {
        case "matched": return r.matches.length > 0;
        case "near": return r.near.length > 0;
        case "renewals": return r.renewals.length > 0;
        default: return true;
      }
    });
    replace(tableSlot, caseloadTable(rows, sort));
    replace(cohortSlot, cohort(data.view));
  };
  filterText.addEventListener("input", draw);
  filterKind.addEventListener("change", draw);

  replace(view,
    h("h1", {}, "Caseload"),
    h("p", {}, `${data.rows.length} client${data.rows.length === 1 ? "" : "s"} linked to you. Every read here is in each client's access log.`),
    h("form", { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field" }, h("label", { for: "filter" }, "Filter by client, job or credential"), filterText),
      h("div", { class: "field" }, h("label", { for: "show" }, "Show"), filterKind)),
    tableSlot,
    cohortSlot,
    h("section", { "aria-labelledby": "changes-h" },
      h("h2", { id: "changes-h" }, "Changes since you opened this page"),
      liveState, changes));
  draw();

  // Live: refresh on each event (or each poll) and list what is new.
  // One refresh at a time; an event that comes during one asks for
  // another after it, so no change is missed and a burst costs two loads.
  let refreshing = false;
  let again = false;
  const refresh = async () => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const next = await loadCaseload(path);
      for (const line of diff(data, next)) {
        changes.prepend(h("li", {}, h("time", { datetime: new Date().toISOString() }, new Date().toLocaleTimeString()), " ", line));
        announce(line);
      }
      data = next;
      draw();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) location.hash = "#/signin";
    } finally {
      refreshing = false;
    }
    if (again) {
      again = false;
      await refresh();
    }
  };
  return follow(`/v1/counselors/${enc(s.sub)}/events`, refresh, (state) => { liveState.textContent = `Live updates: ${state}`; });
}

// loadCaseload reads the caseload and each client's renewals (from their
// plan), and flattens them into table rows.
async function loadCaseload(path) {
  const res = await get(path);
  const clients = res.view?.clients || [];
  const plans = await Promise.all(clients.map((c) => c.known
    ? get(`/v1/seekers/${enc(c.seeker_id)}/plan`).catch(() => null)
    : Promise.resolve(null)));
  const rows = clients.map((c, i) => {
    const matches = c.best_matches || [];
    const near = c.near_misses || [];
    const renewals = renewalsDue(plans[i]?.recertification || []);
    const p = c.progress || {};
    return {
      id: c.seeker_id, known: c.known, matches, near, renewals, progress: p,
      stage: p.target ? `${p.target}: ${words(p.target_status)}` : "no target",
      search: [c.seeker_id, p.target, ...matches.map((m) => m.title), ...near.map((m) => m.title),
        ...(p.held || []), ...near.flatMap((m) => (m.closers || []).map((x) => x.code))].join(" ").toLowerCase(),
    };
  });
  return { view: res.view || {}, rows };
}

function caseloadTable(rows, sort) {
  return sortableTable({
    id: "caseload", sort,
    caption: "Clients, their best matches, near misses, plan progress and renewals",
    rows,
    columns: [
      { key: "client", label: "Client", value: (r) => r.id, cell: (r) => h("a", { href: `#/clients/${enc(r.id)}` }, r.id) },
      {
        key: "stage", label: "Stage", value: (r) => r.stage,
        cell: (r) => r.known ? [h("span", {}, r.stage), r.progress.next_step ? h("br") : null,
          r.progress.next_step ? h("span", { class: "muted" }, `Next: ${r.progress.next_step}`) : null] : "no profile yet",
      },
      {
        key: "best", label: "Best match", value: (r) => r.matches[0]?.score ?? -1,
        cell: (r) => r.matches.length ? [h("span", {}, r.matches[0].title), " ",
          h("span", { class: "score" }, `${Math.round(r.matches[0].score)}/100`),
          r.matches.length > 1 ? h("span", { class: "muted" }, ` and ${r.matches.length - 1} more`) : null] : "none yet",
      },
      {
        key: "near", label: "Near misses", value: (r) => r.near.length,
        cell: (r) => r.near.length ? [h("span", {}, `${r.near.length}: `),
          h("span", {}, r.near[0].title), h("br"),
          h("span", { class: "muted" }, closerText(r.near[0]))] : "none",
      },
      {
        key: "progress", label: "Plan progress", value: (r) => (r.progress.held || []).length * 100 + (r.progress.eligible_now || []).length,
        cell: (r) => `holds ${listOr(r.progress.held, "nothing yet")}; may sit for ${(r.progress.eligible_now || []).length} now`,
      },
      {
        key: "renewals", label: "Renewals", value: (r) => r.renewals[0]?.days_left ?? 100000,
        cell: (r) => r.renewals.length ? r.renewals.map((x) => h("span", { class: x.status === "active" ? "" : "warn" },
          `${x.credentials.join(", ")}: ${x.status === "active" ? `${x.days_left} days left` : words(x.status)}`)) : "none due",
      },
    ],
  });
}

function cohort(view) {
  const unlocks = view.unlocks || [];
  const best = view.best_unlock;
  return [
    h("h2", { id: "cohort-h" }, "Cohort: which credential unlocks the most"),
    best ? h("p", { id: "best-unlock" }, h("strong", {}, best.credential), ` would open ${best.postings} posting${best.postings === 1 ? "" : "s"} for `,
      (best.clients || []).map((c, i) => [i ? ", " : "", h("a", { href: `#/clients/${enc(c.seeker_id)}` }, c.seeker_id),
        c.earns && c.earns !== best.credential ? ` (as ${c.earns})` : ""]), ".")
      : h("p", {}, "No single credential a client may sit for now would open a posting."),
    unlocks.length > 1 ? h("div", { class: "table-wrap" }, sortableTable({
      id: "unlocks", caption: "Every credential a client may sit for now, by postings it opens",
      rows: unlocks, sort: { key: "postings", dir: "descending" },
      columns: [
        { key: "credential", label: "Credential", value: (u) => u.credential, cell: (u) => u.credential },
        { key: "postings", label: "Postings it opens", value: (u) => u.postings, cell: (u) => String(u.postings) },
        { key: "clients", label: "For", value: (u) => (u.seekers || []).length, cell: (u) => (u.seekers || []).join(", ") },
      ],
    })) : null,
  ];
}

// diff names what changed between two loads: new matches first.
function diff(before, after) {
  const out = [];
  const old = new Map(before.rows.map((r) => [r.id, r]));
  for (const r of after.rows) {
    const o = old.get(r.id);
    if (!o) {
      out.push(`New client: ${r.id}.`);
      continue;
    }
    const had = new Set(o.matches.map((m) => m.posting_id));
    for (const m of r.matches) {
      if (!had.has(m.posting_id)) out.push(`New match for ${r.id}: ${m.title} at ${m.employer} (${Math.round(m.score)}/100).`);
    }
    const near = new Set(o.near.map((m) => m.posting_id));
    for (const m of r.near) {
      if (!near.has(m.posting_id)) out.push(`New near miss for ${r.id}: ${m.title} (${closerText(m)}).`);
    }
  }
  return out;
}

function closerText(nm) {
  const c = (nm.closers || [])[0];
  return c ? c.text : nm.summary || "";
}

function listOr(xs, none) {
  return xs && xs.length ? xs.join(", ") : none;
}

function words(s) {
  return String(s || "").replace(/_/g, " ");
}

// clientPage is one client: plan as a timeline, matches with their
// explanation, near misses with the step that closes them, and notes.
export async function clientPage(view, [id], _s) {
  const base = `/v1/seekers/${enc(id)}`;
  let plan, matches, notes;
  try {
    [plan, matches, notes] = await Promise.all([get(`${base}/plan`), get(`${base}/matches`), get(`${base}/notes`)]);
  } catch (err) {
    replace(view, h("p", {}, h("a", { href: "#/caseload" }, "← Caseload")), h("h1", {}, `Client ${id}`), errorBox(err));
    return;
  }
  const notesList = h("ol", { id: "notes", class: "notes" });
  const drawNotes = (list) => replace(notesList, (list || []).length
    ? list.map((n) => h("li", {}, h("p", {}, n.text), h("p", { class: "muted" }, `${n.author}, `, h("time", { datetime: n.at }, new Date(n.at).toLocaleString()))))
    : h("li", {}, "No notes yet."));
  drawNotes(notes.notes);
  const noteText = h("textarea", { id: "note-text", name: "text", rows: 3, required: true, "aria-describedby": "note-error" });
  const noteError = h("p", { id: "note-error", class: "field-error" });
  const noteForm = h("form", {
    novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      noteError.textContent = "";
      noteText.removeAttribute("aria-invalid");
      try {
        await call("POST", `${base}/notes`, { body: { text: noteText.value } });
        noteText.value = "";
        drawNotes((await get(`${base}/notes`)).notes);
        announce("Note added.");
      } catch (err) {
        const f = err.fields?.find((x) => x.field === "text");
        noteError.textContent = f ? f.message : err.message;
        noteText.setAttribute("aria-invalid", "true");
        noteText.focus();
      }
    },
  }, h("label", { for: "note-text" }, "New note"), noteText, noteError, h("button", { type: "submit" }, "Add note"));

  replace(view,
    h("p", {}, h("a", { href: "#/caseload" }, "← Caseload")),
    h("h1", {}, `Client ${id}`),
    h("section", { "aria-labelledby": "plan-h" }, h("h2", { id: "plan-h" }, "Plan"), planTimeline(plan)),
    h("section", { "aria-labelledby": "renew-h" }, h("h2", { id: "renew-h" }, "Renewals"), renewalsList(plan.recertification || [])),
    h("section", { "aria-labelledby": "matches-h" }, h("h2", { id: "matches-h" }, "Matches"), matchList(matches.matches || [], "their")),
    h("section", { "aria-labelledby": "near-h" }, h("h2", { id: "near-h" }, "Near misses"), nearMissList(matches.near_misses || [])),
    h("section", { "aria-labelledby": "notes-h" }, h("h2", { id: "notes-h" }, "Notes"), notesList, noteForm));
}
