// Building elements without HTML strings. Every string from the relay (names, owners, topics,
// previews, errors) reaches the page through createTextNode, so markup in it stays text: there is
// no innerHTML anywhere in the dashboard.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * An HTML element. `attrs.class` sets the class list; other attributes are set with setAttribute
 * (never `style`: the page's CSP forbids inline styles, so looks come from classes).
 * Children: nodes, or strings and numbers (added as text), or null/false (skipped).
 */
export function el(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same rules as el(). */
export function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "style" || name.startsWith("on")) throw new Error(`el(): refusing attribute ${name}`);
    node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
}

/** Sets an element's text (textContent treats the value as text, never as markup). */
export function setText(id, text) {
  const node = document.getElementById(id);
  if (node) node.textContent = text;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`dashboard markup is missing #${id}`);
  return node;
}

/** A small padlock drawn in SVG (no emoji font needed), labelled for screen readers and tooltips. */
export function lockIcon() {
  return svg(
    "svg",
    { class: "lock", viewBox: "0 0 12 14", width: 12, height: 14, role: "img", "aria-label": "encrypted" },
    svg("title", {}, "encrypted: the relay cannot read this payload"),
    svg("path", { class: "lock-shackle", d: "M3 6.5V4.5a3 3 0 0 1 6 0v2" }),
    svg("rect", { class: "lock-body", x: 1.5, y: 6.5, width: 9, height: 7, rx: 1 }),
  );
}
