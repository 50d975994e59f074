// The live list of serve's event stream (/api/events): alerts (events with a priority: guard's
// rules, graph's detections) first in colour, other events as they come. Read with fetch so
// that a bearer token can be sent (EventSource cannot), resumed with Last-Event-ID.
import { tableRow } from "./dom.js";
const KEEP = 200;

export default {
  stream: true,
  title: "Live alerts and events",
  mount(root) {
    root.innerHTML = `<p class="sub"><label><input type="checkbox" id="ev-alerts-only"> alerts only</label>
      <span id="ev-count"></span></p>
      <table id="events"><thead><tr><th>Time (UTC)</th><th>Priority</th><th>Type</th>
      <th>Rule / process</th><th>Detail</th></tr></thead><tbody></tbody></table>`;
    this.tbody = root.querySelector("tbody");
    this.count = root.querySelector("#ev-count");
    this.only = root.querySelector("#ev-alerts-only");
    this.n = 0;
    this.only.addEventListener("change", () => {
      for (const tr of this.tbody.children) tr.hidden = this.only.checked && !tr.classList.contains("alert");
    });
  },
  event(type, d) {
    if (type === "gap") {
      this.gap = ` · ${d.missed} older events not kept`;
      return;
    }
    this.n++;
    const prio = d.priority || d["alert.priority"] || "";
    const who = d.rule || d["alert.rule"] || `${d["proc.comm"] || ""} (${d["proc.pid"] || "?"})`;
    const detail = d.output || d["proc.exepath"] || d["fd.name"] || d.collector || "";
    const tr = tableRow("event" + (prio ? " alert prio-" + prio.toLowerCase() : ""),
      [(d["evt.time"] || "").replace("T", " ").replace(/Z$/, ""), prio, d["evt.type"] || type, who, detail]);
    tr.dataset.id = d.id;
    tr.hidden = this.only.checked && !prio;
    this.tbody.prepend(tr);
    while (this.tbody.children.length > KEEP) this.tbody.lastChild.remove();
    this.count.textContent = ` · ${this.n} received` + (this.gap || "");
  },
};
