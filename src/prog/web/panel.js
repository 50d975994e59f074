// prog's panel in ebee serve's page: the top of every loaded BPF program by CPU, like
// `ebee top`, from /api/prog (the collector's last sample).
import { tableRow } from "../../serve/web/dom.js";
export default {
  collector: "prog",
  title: "BPF programs",
  query: "top=15",
  mount(root) {
    root.innerHTML = `<table id="prog-top"><thead><tr><th class="num">ID</th><th>Name</th>
      <th>Type</th><th>Owner</th><th>Collector</th><th class="num">Runs/s</th>
      <th class="num">ns/run</th><th class="num">CPU %</th></tr></thead><tbody></tbody></table>
      <p class="sub" id="prog-stats"></p>`;
    this.tbody = root.querySelector("tbody");
    this.stats = root.querySelector("#prog-stats");
  },
  update(d) {
    const n = (v, p) => (typeof v === "number" ? v.toFixed(p) : "");
    this.tbody.replaceChildren(...(d.rows || []).map((r) => {
      return tableRow("prog", [[r.id, "num"], r.name, r.type, r.owner || "", r.collector || "",
        [n(r.runs_per_s, 1), "num"], [n(r.ns_per_run, 0), "num"], [n(r.cpu_pct, 3), "num"]]);
    }));
    this.stats.textContent = `${d.programs} programs loaded · ${d.stats || ""}`;
  },
};
