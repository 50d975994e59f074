// tcp's panel in ebee serve's page: sockets per TCP state now and the transitions into each
// state since the start, and the last closed connections with their lifetimes, from /api/tcp
// (the collector's count mode, with its recent list).
import { tableRow } from "../../serve/web/dom.js";
export default {
  collector: "tcp",
  title: "TCP states and recent connections",
  query: "top=15",
  mount(root) {
    root.innerHTML = `<table id="tcp-states"><thead><tr><th>State</th><th class="num">Now</th>
      <th class="num">Entered</th><th class="bar"></th></tr></thead><tbody></tbody></table>
      <p class="sub" id="tcp-total"></p>
      <table id="tcp-recent"><thead><tr><th>Closed (UTC)</th><th>Process</th><th>Local</th>
      <th>Remote</th><th class="num">Lifetime ms</th><th class="num">Sent</th><th class="num">Received</th>
      <th>Closed first</th></tr></thead><tbody></tbody></table>`;
    this.tbody = root.querySelector("#tcp-states tbody");
    this.total = root.querySelector("#tcp-total");
    this.recent = root.querySelector("#tcp-recent tbody");
  },
  update(d) {
    const states = (d.states || []).filter((s) => s.entered || s.now);
    const max = Math.max(1, ...states.map((s) => s.entered));
    this.tbody.replaceChildren(...states.map((s) => {
      const tr = tableRow("tcp-state", [s.state, [s.now, "num"], [s.entered, "num"]]);
      tr.dataset.state = s.state;
      const bar = document.createElement("td");
      const span = document.createElement("span");
      span.className = "bar";
      span.style.width = (100 * s.entered / max).toFixed(1) + "%";
      bar.appendChild(span);
      tr.appendChild(bar);
      return tr;
    }));
    this.recent.replaceChildren(...(d.recent || []).map((c) => {
      return tableRow("tcp-conn", [(c.time || "").replace("T", " ").replace(/\.\d+Z$/, ""),
        c.comm ? `${c.comm} (${c.pid})` : "", `${c.laddr}:${c.lport}`, `${c.raddr}:${c.rport}`,
        [typeof c.ms === "number" ? c.ms.toFixed(2) : "", "num"],
        [c.tx_bytes, "num"], [c.rx_bytes, "num"], c.first]);
    }));
    this.total.textContent = `${d.transitions} transitions since the start` +
      (d.lost ? ` · ${d.lost} lost` : "");
  },
};
