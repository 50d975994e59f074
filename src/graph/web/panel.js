// The behaviour graph's panel in ebee serve's page: the live graph of one lineage (a process
// image and the children it forked without exec) drawn with cytoscape, from /api/graph, which
// sends the most interesting lineages first (alerted ones, then the busiest); the latest
// detections below it. Choosing an alert selects its lineage and marks the nodes it names.
// Everything from the API is set as text (textContent, cytoscape labels), never as HTML.
import cytoscape from "cytoscape";
import { tableRow } from "../../serve/web/dom.js";

const COLOR = {
  proc: "#4c78a8", file: "#8c8c8c", remote: "#e45756", port: "#f58518", user: "#54a24b",
  container: "#b279a2",
};

const STYLE = [
  { selector: "node", style: {
    "background-color": (n) => COLOR[n.data("type")] || "#999", label: "data(text)",
    "font-size": 9, "text-valign": "bottom", "text-margin-y": 2, width: 14, height: 14,
    "min-zoomed-font-size": 7, "text-max-width": 140, "text-wrap": "ellipsis" } },
  { selector: "node[type = 'proc']", style: { shape: "round-rectangle", width: 22, height: 16 } },
  { selector: "node.head", style: { "border-width": 3, "border-color": "#1f3a5f" } },
  { selector: "node.alerted", style: { "border-width": 3, "border-color": "#d62728" } },
  { selector: "node.hit", style: { "overlay-color": "#d62728", "overlay-opacity": 0.25 } },
  { selector: "edge", style: {
    width: 1, "line-color": "#bbb", "target-arrow-color": "#bbb", "target-arrow-shape": "triangle",
    "curve-style": "bezier", label: "data(text)", "font-size": 7, color: "#666",
    "min-zoomed-font-size": 8, "text-rotation": "autorotate" } },
  { selector: "edge.hit", style: { "line-color": "#d62728", "target-arrow-color": "#d62728",
    width: 2 } },
];

function base(p) {
  const i = p.lastIndexOf("/");
  return i >= 0 && i < p.length - 1 ? p.slice(i + 1) : p;
}

function nodeText(n) {
  if (n.type === "proc") return `${n.comm || base(n.label)} (${n.pid})`;
  if (n.type === "file") return base(n.label);
  return n.label;
}

export default {
  collector: "graph",
  title: "Behaviour graph",

  mount(root) {
    root.innerHTML = `<div class="graph-bar"><label>Lineage <select id="graph-lineage"></select>
      </label> <span class="sub" id="graph-stats"></span></div>
      <div id="graph-cy" style="height:440px;border:1px solid #ddd;border-radius:4px"></div>
      <p class="sub" id="graph-info"></p>
      <table id="graph-alerts"><thead><tr><th>Time</th><th>Rule</th><th>Priority</th>
      <th class="num">PID</th><th>Process</th><th>Alert</th></tr></thead><tbody></tbody></table>`;
    this.sel = root.querySelector("#graph-lineage");
    this.stats = root.querySelector("#graph-stats");
    this.info = root.querySelector("#graph-info");
    this.tbody = root.querySelector("#graph-alerts tbody");
    this.box = root.querySelector("#graph-cy");
    this.cy = cytoscape({ container: this.box, style: STYLE, minZoom: 0.2, maxZoom: 4 });
    this.chosen = null;   // the lineage head's id, kept across updates once the user picks one
    this.picked = false;
    this.hit = new Set();
    this.drawn = "";
    this.sel.addEventListener("change", () => {
      this.chosen = this.sel.value;
      this.picked = true;
      this.hit = new Set();
      this.draw();
    });
    this.cy.on("tap", "node", (e) => {
      const n = e.target.data("node");
      this.info.textContent = `${n.id} ${n.type} ${n.label}` +
        (n.pid !== undefined ? ` pid ${n.pid} uid ${n.uid}` : "") +
        (n.flags && n.flags.length ? ` [${n.flags.join(", ")}]` : "") + ` since ${n.first}`;
    });
  },

  update(d) {
    this.data = d;
    const lins = d.lineages || [];
    if (!this.picked || !lins.some((l) => l.id === this.chosen))
      this.chosen = lins.length ? lins[0].id : null;
    this.sel.replaceChildren(...lins.map((l) => {
      const o = document.createElement("option");
      o.value = l.id;
      o.textContent = `${l.comm || base(l.label)} (${l.pid})` +
        (l.alerts ? ` · ${l.alerts} alert${l.alerts > 1 ? "s" : ""}` : "") +
        ` · ${l.procs} proc${l.procs > 1 ? "s" : ""}`;
      o.selected = l.id === this.chosen;
      return o;
    }));
    const det = Object.values(d.detections || {}).reduce((a, b) => a + b, 0);
    this.stats.textContent = `${d.nodes_total} nodes, ${d.edges_total} edges` +
      ` (bound ${d.max_nodes}/${d.max_edges}), ${det} detections` +
      (d.dropped_nodes ? `, ${d.dropped_nodes} nodes aged out` : "") +
      (d.incomplete ? ` · ${d.lost} events lost: incomplete` : "");
    this.tbody.replaceChildren(...(d.alerts || []).map((a) => {
      const f = a.output_fields || {};
      const tr = tableRow("graph-alert", [a.time.slice(11, 23), a.rule, a.priority,
        [f["proc.pid"] ?? "", "num"], f["proc.exe"] || "",
        (f["graph.alert_id"] || "") + (f["graph.incomplete"] ? " (incomplete)" : "")]);
      tr.dataset.rule = a.rule;
      tr.dataset.alert = f["graph.alert_id"] || "";
      tr.addEventListener("click", () => {
        if (f["graph.lineage"]) {
          this.chosen = f["graph.lineage"];
          this.picked = true;
        }
        this.hit = new Set([...(f["graph.nodes"] || []).map((n) => n.id),
          ...(f["graph.edges"] || []).map((e) => e.id)]);
        this.sel.value = this.chosen;
        this.draw();
      });
      return tr;
    }));
    this.draw();
  },

  // The chosen lineage's processes and every node they touch, with the edges among them.
  draw() {
    const d = this.data || {};
    const nodes = new Map((d.nodes || []).map((n) => [n.id, n]));
    const head = this.chosen;
    const procs = new Set([...nodes.values()].filter((n) => n.type === "proc" &&
      (n.id === head || n.lineage === head)).map((n) => n.id));
    const edges = (d.edges || []).filter((e) => procs.has(e.source) || procs.has(e.target));
    const keep = new Set(procs);
    for (const e of edges) {
      keep.add(e.source);
      keep.add(e.target);
    }
    const alerted = new Set();
    for (const a of d.alerts || [])
      if ((a.output_fields || {})["graph.lineage"] === head)
        for (const n of a.output_fields["graph.nodes"] || []) alerted.add(n.id);
    const els = [...keep].filter((id) => nodes.has(id)).map((id) => {
      const n = nodes.get(id);
      return { group: "nodes", data: { id, type: n.type, text: nodeText(n), node: n },
               classes: [id === head ? "head" : "", alerted.has(id) ? "alerted" : "",
                         this.hit.has(id) ? "hit" : ""].join(" ").trim() };
    });
    const ids = new Set(els.map((e) => e.data.id));
    for (const e of edges)
      if (ids.has(e.source) && ids.has(e.target))
        els.push({ group: "edges", data: { id: e.id, source: e.source, target: e.target,
          text: e.count > 1 ? `${e.type} ×${e.count}` : e.type },
          classes: this.hit.has(e.id) ? "hit" : "" });
    // Re-layout only when the drawing changed: a steady graph does not jump every second.
    const sig = head + "|" + els.map((e) => e.data.id + e.data.text + e.classes).join(",");
    this.box.dataset.lineage = head || "";
    this.box.dataset.nodes = String(ids.size);
    this.box.dataset.edges = String(els.length - ids.size);
    if (sig === this.drawn) return;
    this.drawn = sig;
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.cy.add(els);
    });
    // a tree from the lineage's head; rings around it once a scan's endpoints would crowd a row
    this.cy.layout({ name: "breadthfirst", directed: true, circle: ids.size > 24,
                     roots: head && ids.has(head) ? [head] : undefined, spacingFactor: 0.9,
                     animate: false, padding: 12 }).run();
    this.box.dataset.drawn = String(Number(this.box.dataset.drawn || 0) + 1);
  },
};
