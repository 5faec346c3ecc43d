// Views shared by the counselor's and the seeker's pages: matches with
// "how you match", near misses with the step that closes them, a plan as a
// timeline with time and cost, and renewals.

import { h, range, moneyRange } from "./dom.js";

const componentNames = {
  preferred_credentials: "Preferred credentials",
  skills: "Skills, code sets and systems",
  experience: "Experience",
  distance: "Distance",
  pay: "Pay",
  freshness: "Freshness",
};

// howYouMatch lists the score's named parts, each with its points and
// words, inside a disclosure the keyboard can open.
function howYouMatch(m, whose) {
  return h("details", { class: "how" },
    h("summary", {}, whose === "their" ? "How they match" : "How you match"),
    h("dl", { class: "components" }, (m.components || []).map((c) => [
      h("dt", {}, `${componentNames[c.name] || c.name}: ${fmtPoints(c.points)} of ${c.max}`),
      h("dd", {}, h("meter", { min: 0, max: c.max, value: c.points, "aria-label": `${componentNames[c.name] || c.name} points` }), " ", c.detail),
    ])),
    (m.met || []).length ? h("ul", { class: "met" }, m.met.map((x) => h("li", {}, x))) : null);
}

function fmtPoints(p) {
  return Number.isInteger(p) ? String(p) : p.toFixed(1);
}

function postingTitle(m) {
  return [h("strong", {}, m.title), m.employer ? ` at ${m.employer}` : "",
    typeof m.distance_miles === "number" ? h("span", { class: "muted" }, ` · ${m.distance_miles.toFixed(1)} mi`) : null];
}

export function matchList(matches, whose = "your") {
  if (!matches.length) return h("p", {}, "No matches yet.");
  return h("ol", { class: "cards", id: "matches" }, matches.map((m) => h("li", { class: "card", dataset: { posting: m.posting_id } },
    h("h3", {}, postingTitle(m)),
    h("p", {}, h("span", { class: "score" }, `${Math.round(m.score)}/100`), " ", m.summary),
    howYouMatch(m, whose))));
}

export function nearMissList(near) {
  if (!near.length) return h("p", {}, "No near misses.");
  return h("ol", { class: "cards", id: "near-misses" }, near.map((m) => h("li", { class: "card", dataset: { posting: m.posting_id } },
    h("h3", {}, postingTitle(m)),
    h("p", {}, m.summary),
    (m.closers || []).length ? h("div", { class: "closers" },
      h("p", {}, h("strong", {}, "What closes it:")),
      h("ul", {}, m.closers.map((c) => h("li", {}, c.text)))) : null,
    m.route_count > 1 ? h("p", { class: "muted" }, `One of ${m.route_count} ways to qualify; this is the cheapest to close.`) : null)));
}

// planTimeline draws the route to the target as an ordered list, each step
// with its time and cost, and the totals; then the ranked next steps.
export function planTimeline(p) {
  const plan = p.plan;
  const parts = [];
  if (plan && (plan.steps || []).length) {
    parts.push(
      h("p", {}, `Toward ${plan.target} (${String(plan.status).replace(/_/g, " ")}): `,
        h("strong", {}, range(plan.months_min, plan.months_max, "months")), ", ",
        h("strong", {}, moneyRange(plan.cost_min, plan.cost_max)), "."),
      h("ol", { class: "timeline", id: "plan-steps" }, plan.steps.map((st) => h("li", {},
        h("h3", {}, st.title),
        h("p", {}, `${range(st.months_min, st.months_max, "months")} · ${moneyRange(st.cost_min, st.cost_max)}`),
        st.why ? h("p", { class: "muted" }, st.why) : null))),
      (plan.notes || []).length ? h("ul", { class: "notes-small" }, plan.notes.map((n) => h("li", {}, n))) : null);
  } else if (plan) {
    parts.push(h("p", {}, `Target ${plan.target}: ${String(plan.status).replace(/_/g, " ")}.`));
  } else {
    parts.push(h("p", {}, "No target set: the next steps below are ranked by local demand."));
  }
  if ((p.eligible_now || []).length) {
    parts.push(h("p", {}, "May sit for now: ", p.eligible_now.join(", "), "."));
  }
  if ((p.next_steps || []).length) {
    parts.push(h("h3", {}, "Next steps"), h("ol", { class: "next-steps" }, p.next_steps.map((st) => h("li", {},
      h("strong", {}, st.title), h("br"),
      `${range(st.months_min, st.months_max, "months")} · ${moneyRange(st.cost_min, st.cost_max)}`,
      st.demand ? [h("br"), h("span", { class: "muted" }, st.demand)] : null))));
  }
  return parts;
}

// renewalsDue keeps the renewal cycles that need attention: past their
// end, or ending within 120 days.
export function renewalsDue(recerts) {
  return recerts.filter((r) => r.status === "in_grace" || r.status === "lapsed" || (r.status === "active" && r.days_left <= 120))
    .sort((a, b) => a.days_left - b.days_left);
}

export function renewalsList(recerts) {
  if (!recerts.length) return h("p", {}, "No credentials to renew.");
  return h("ul", { class: "renewals" }, recerts.map((r) => h("li", {},
    h("strong", {}, `${r.credentials.join(", ")} (${r.issuer})`), `: ${String(r.status).replace(/_/g, " ")}`,
    r.cycle_end ? `, cycle ends ${r.cycle_end}` : "", r.action ? [h("br"), r.action] : null)));
}
