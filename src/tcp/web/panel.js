// tcp's panel in ebee serve's page: sockets per TCP state now and the transitions into each
// state since the start, from /api/tcp (the collector's count mode).
export default {
  collector: "tcp",
  title: "TCP states",
  mount(root) {
    root.innerHTML = `<table id="tcp-states"><thead><tr><th>State</th><th class="num">Now</th>
      <th class="num">Entered</th><th class="bar"></th></tr></thead><tbody></tbody></table>
      <p class="sub" id="tcp-total"></p>`;
    this.tbody = root.querySelector("tbody");
    this.total = root.querySelector("#tcp-total");
  },
  update(d) {
    const states = (d.states || []).filter((s) => s.entered || s.now);
    const max = Math.max(1, ...states.map((s) => s.entered));
    this.tbody.replaceChildren(...states.map((s) => {
      const tr = document.createElement("tr");
      tr.className = "tcp-state";
      tr.dataset.state = s.state;
      for (const [v, cls] of [[s.state, ""], [s.now, "num"], [s.entered, "num"]]) {
        const td = document.createElement("td");
        td.textContent = v;
        if (cls) td.className = cls;
        tr.appendChild(td);
      }
      const bar = document.createElement("td");
      const span = document.createElement("span");
      span.className = "bar";
      span.style.width = (100 * s.entered / max).toFixed(1) + "%";
      bar.appendChild(span);
      tr.appendChild(bar);
      return tr;
    }));
    this.total.textContent = `${d.transitions} transitions since the start` +
      (d.lost ? ` · ${d.lost} lost` : "");
  },
};
