// Building the page from data with DOM calls only: every text the API
// sends is set as text, never parsed as markup.

// h makes an element: h("a", {href: "#/x", class: "link"}, "text", child).
// Attributes whose value is false, null or undefined are left out; "on"
// attributes take functions and become listeners.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// announce tells screen-reader users what changed, through the page's
// polite live region.
export function announce(text) {
  const el = document.getElementById("status");
  if (el) el.textContent = text;
}

// money prints dollars without exponents: 2000000 -> "$2,000,000".
export function money(n) {
  if (n === null || n === undefined) return "unknown";
  return "$" + Number(n).toLocaleString("en-US", { maximumFractionDigits: 2 });
}

// range prints "a–b unit", "from a unit" or "unknown".
export function range(min, max, unit) {
  if (min === null || min === undefined) return max === null || max === undefined ? "unknown" : `up to ${max} ${unit}`;
  if (max === null || max === undefined) return `from ${min} ${unit}`;
  if (min === max) return `${min} ${unit}`;
  return `${min}–${max} ${unit}`;
}

export function moneyRange(min, max) {
  if ((min === null || min === undefined) && (max === null || max === undefined)) return "cost unknown";
  if (min === null || min === undefined) return `up to ${money(max)}`;
  if (max === null || max === undefined) return `from ${money(min)}`;
  if (min === max) return money(min);
  return `${money(min)}–${money(max)}`;
}

// errorBox shows a failed call in words, with the request id a support
// person can look up.
export function errorBox(err) {
  return h("div", { class: "alert", role: "alert" },
    h("p", {}, err.message || String(err)),
    err.fields?.length ? h("ul", {}, err.fields.map((f) => h("li", {}, h("code", {}, f.field), ": ", f.message))) : null,
    err.requestId ? h("p", { class: "muted" }, "Request id ", h("code", {}, err.requestId)) : null);
}

// sortableTable renders rows with column headers that sort on click (and
// keyboard: they are buttons), keeping aria-sort on the sorted column.
// columns: [{key, label, value(row) -> sortable, cell(row) -> node|string}].
// sort ({key, dir}) is read and updated in place, so a page that redraws
// the table with new rows keeps the order the user chose.
export function sortableTable({ caption, columns, rows, sort = {}, id }) {
  sort.key ??= columns[0].key;
  sort.dir ??= "ascending";
  const table = h("table", { class: "data", id });
  const render = () => {
    const { key: sortKey, dir } = sort;
    const col = columns.find((c) => c.key === sortKey);
    const sorted = [...rows].sort((a, b) => {
      const x = col.value(a), y = col.value(b);
      const r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return dir === "ascending" ? r : -r;
    });
    replace(table,
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", {
        scope: "col",
        "aria-sort": c.key === sortKey ? dir : (c.value ? "none" : null),
      }, c.value ? h("button", {
        type: "button", class: "sort", dataset: { key: c.key },
        onclick: () => {
          sort.dir = sort.key === c.key && sort.dir === "ascending" ? "descending" : "ascending";
          sort.key = c.key;
          render();
          table.querySelector(`button[data-key="${c.key}"]`)?.focus();
          announce(`Sorted by ${c.label}, ${sort.dir}`);
        },
      }, c.label, h("span", { class: "arrow", "aria-hidden": "true" }, c.key === sortKey ? (dir === "ascending" ? " ▲" : " ▼") : " ↕")) : c.label)))),
      h("tbody", {}, sorted.length ? sorted.map((r) => h("tr", {}, columns.map((c, i) => i === 0
        ? h("th", { scope: "row" }, c.cell(r))
        : h("td", { "data-label": c.label }, c.cell(r)))))
        : h("tr", {}, h("td", { colspan: columns.length }, "Nothing to show."))));
  };
  render();
  return table;
}
