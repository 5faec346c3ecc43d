// The console's shell: sign-in, the menu for the signed-in role, and a
// router over the URL's fragment (#/caseload, #/clients/ana, …), so every
// page has an address and the browser's back button works.

import { session, signIn, signOut, readClaims } from "./api.js";
import { h, replace, announce } from "./dom.js";
import * as counselor from "./counselor.js";
import * as seeker from "./seeker.js";
import * as employer from "./employer.js";

const menus = {
  counselor: [["#/caseload", "Caseload"]],
  seeker: [["#/profile", "Profile"], ["#/matches", "Matches"], ["#/plan", "Plan"], ["#/privacy", "Privacy and data"]],
  employer: [["#/postings", "Postings"]],
};

// routes: pattern -> [role, page(main, params, session)].
const routes = [
  [/^#\/caseload$/, "counselor", counselor.caseloadPage],
  [/^#\/clients\/([^/]+)$/, "counselor", counselor.clientPage],
  [/^#\/profile$/, "seeker", seeker.profilePage],
  [/^#\/matches$/, "seeker", seeker.matchesPage],
  [/^#\/plan$/, "seeker", seeker.planPage],
  [/^#\/privacy$/, "seeker", seeker.privacyPage],
  [/^#\/postings$/, "employer", employer.postingsPage],
  [/^#\/postings\/([^/]+)\/candidates$/, "employer", employer.candidatesPage],
];

const home = { counselor: "#/caseload", seeker: "#/profile", employer: "#/postings" };

// current is the page's stop function (timers, streams), called when the
// user leaves it: every page owns what it started.
let current = null;
// generation counts route changes, so a slow page that finishes after the
// user moved on is dropped instead of drawn over the new one.
let generation = 0;

function renderChrome(s) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!s) {
    replace(nav);
    replace(who);
    return;
  }
  const here = location.hash.split("/").slice(0, 2).join("/");
  replace(nav, h("ul", {}, (menus[s.role] || []).map(([href, label]) =>
    h("li", {}, h("a", { href, "aria-current": href === here ? "page" : null }, label)))));
  replace(who,
    h("span", {}, `Signed in as ${s.sub} (${s.role}${s.org ? ", " + s.org : ""})`), " ",
    h("button", {
      type: "button", class: "link", onclick: () => {
        signOut();
        location.hash = "#/signin";
      },
    }, "Sign out"));
}

function signInPage(main) {
  const input = h("textarea", {
    id: "token", name: "token", rows: 4, required: true, autocomplete: "off", spellcheck: "false",
    "aria-describedby": "token-help token-error",
  });
  const error = h("p", { id: "token-error", class: "field-error" });
  const form = h("form", {
    novalidate: true,
    onsubmit: (e) => {
      e.preventDefault();
      const token = input.value.trim().replace(/^Bearer\s+/i, "");
      const claims = readClaims(token);
      if (!claims || !home[claims.role]) {
        error.textContent = "That is not a console token: paste a bearer token for a seeker, employer or counselor.";
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      signIn(token);
      location.hash = home[claims.role];
    },
  },
  h("label", { for: "token" }, "Bearer token"),
  h("p", { id: "token-help", class: "hint" },
    "Locally, mint one with ", h("code", {}, "bin/clerkpath token --role counselor --sub carl"),
    ". It stays in this tab only (sessionStorage) and every call sends it to the API."),
  input, error,
  h("button", { type: "submit" }, "Sign in"));
  replace(main,
    h("h1", { tabindex: "-1" }, "Sign in"),
    h("p", {}, "The console for career counselors, job seekers and employers, on clerkpath's API."),
    form);
}

// route draws the page the address names. On the first load focus stays
// at the top (the skip link is the first Tab); after a move within the
// console it goes to the new page's heading, so screen-reader users hear
// where they are.
async function route(ev) {
  const moved = ev instanceof HashChangeEvent;
  const mine = ++generation;
  if (current) {
    current();
    current = null;
  }
  const main = document.getElementById("main");
  const s = session();
  renderChrome(s);
  const hash = location.hash || "#/";
  if (!s) {
    signInPage(main);
    if (hash !== "#/signin" && hash !== "#/") announce("Your session ended; sign in again.");
    focusHeading(main, moved);
    return;
  }
  for (const [re, role, page] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    if (role !== s.role) break;
    const params = m.slice(1).map(decodeURIComponent);
    replace(main, h("p", { class: "muted" }, "Loading…"));
    const view = h("div", { class: "page" });
    const stop = await page(view, params, s);
    if (mine !== generation) {
      if (typeof stop === "function") stop();
      return;
    }
    if (typeof stop === "function") current = stop;
    replace(main, view);
    focusHeading(main, moved);
    return;
  }
  location.replace(home[s.role] || "#/signin");
}

function focusHeading(main, move) {
  const h1 = main.querySelector("h1");
  if (h1) {
    h1.setAttribute("tabindex", "-1");
    if (move) h1.focus({ preventScroll: true });
    document.title = `${h1.textContent} · clerkpath`;
  }
}

window.addEventListener("hashchange", route);
route();
