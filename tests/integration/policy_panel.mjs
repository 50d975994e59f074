// Runs src/policy/web/panel.js in node against a minimal DOM (what the panel uses: elements,
// text nodes, attributes) and prints what a page would show: one line per table row, cells
// joined by " | ", after the panel's update with the /api/policy JSON read from stdin.
import { readFileSync } from "node:fs";

class Node {
  constructor(tag, text) {
    this.tag = tag; this.children = []; this.attrs = {}; this._text = text; this.className = "";
  }
  appendChild(c) { this.children.push(c); c.parent = this; return c; }
  removeChild(c) { this.children = this.children.filter((x) => x !== c); return c; }
  get firstChild() { return this.children[0] || null; }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  set textContent(t) { this.children = []; this._text = String(t); }
  get textContent() {
    return this._text !== undefined && !this.children.length ? this._text
      : this.children.map((c) => c.textContent).join("");
  }
}
globalThis.document = {
  createElement: (t) => new Node(t),
  createTextNode: (t) => new Node("#text", t),
};

// as a module whatever node makes of a .js file: Debian 12's node 18 reads one outside a
// "type": "module" package as CommonJS (the panel has no imports of its own)
const src = readFileSync(process.argv[2], "utf8");
const panel = (await import("data:text/javascript," + encodeURIComponent(src))).default;
const root = new Node("div");
panel.mount(root);
panel.update(JSON.parse(readFileSync(0, "utf8")));
const out = [`collector=${panel.collector} title=${panel.title}`];
(function walk(n) {
  if (n.tag === "p" || n.tag === "h3") out.push(`${n.tag}: ${n.textContent}`);
  if (n.tag === "tr") out.push(n.children.map((c) => c.textContent).join(" | "));
  else n.children.forEach(walk);
})(root);
console.log(out.join("\n"));
