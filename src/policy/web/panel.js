// ebee serve's panel for the policy collector: verdict counters, the policies with what they
// select and the flows they allowed or refused, the workloads' isolation, and the newest
// verdicts, from /api/policy. Plain DOM, no dependency; every value goes in as text (names
// come from users' YAML, never as markup).

const VERDICTS = ["forwarded", "dropped", "audit"];

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.appendChild(typeof k === "string" ? document.createTextNode(k) : k);
  return e;
}

function table(headers) {
  const body = h("tbody");
  const t = h("table", { class: "policy-table" },
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", {}, x)))), body);
  return { t, body };
}

function fill(body, rows) {
  while (body.firstChild) body.removeChild(body.firstChild);
  for (const r of rows) {
    const tr = h("tr", r.cls ? { class: r.cls } : {});
    for (const c of r.cells) tr.appendChild(h("td", {}, String(c)));
    body.appendChild(tr);
  }
}

const counts = (f) => VERDICTS.map((v) => (f && f[v]) || 0).join(" / ");

function endpoint(ep, ip, l4, which) {
  const port = l4 && l4[`${which}_port`];
  const where = port !== undefined ? `${ip}:${port}` : ip;
  return ep && ep.pod_name ? `${ep.namespace}/${ep.pod_name} ${where}` : where;
}

function flowRow(f) {
  const proto = Object.keys(f.l4 || {})[0] || "";
  const l4 = (f.l4 || {})[proto] || {};
  const flags = Object.keys(l4.flags || {}).join("|");
  const time = (f.time || "").replace(/^.*T/, "").replace(/Z$/, "");
  return {
    cls: `verdict-${(f.verdict || "").toLowerCase()}`,
    cells: [time, f.verdict, (f.traffic_direction || "").toLowerCase() + (f.is_reply ? " <" : ""),
      proto, endpoint(f.source, f.IP && f.IP.source, l4, "source"),
      endpoint(f.destination, f.IP && f.IP.destination, l4, "destination"),
      flags || "-", f.packets, f.summary || ""],
  };
}

export default {
  collector: "policy",
  title: "Policy verdicts",

  mount(el) {
    this.head = h("p", { class: "policy-summary" });
    this.pol = table(["policy", "selects", "ingress fwd / drop / audit", "egress fwd / drop / audit"]);
    this.wl = table(["workload", "where", "ingress", "egress"]);
    this.flows = table(["time", "verdict", "direction", "proto", "source", "destination", "flags",
      "packets", "policy / reason"]);
    el.appendChild(h("section", { class: "policy-panel" },
      this.head,
      h("h3", {}, "Policies"), this.pol.t,
      h("h3", {}, "Workloads"), this.wl.t,
      h("h3", {}, "Newest verdicts"), this.flows.t));
  },

  update(data) {
    if (!data || !this.head) return;
    const v = data.verdicts || {};
    const ct = data.conntrack || {};
    this.head.textContent =
      `${data.audit ? "audit mode — " : ""}flows forwarded ${v.forwarded || 0}, ` +
      `dropped ${v.dropped || 0}, audit ${v.audit || 0}; ` +
      `connection table ${ct.entries || 0} (expired ${ct.expired || 0}); ` +
      `events ${data.events || 0}, lost ${data.lost || 0}` +
      (data.health && data.health !== "ok" ? `; ${data.health}` : "");
    this.head.className = "policy-summary" + (data.lost ? " policy-lost" : "");
    fill(this.pol.body, (data.policies || []).map((p) => ({
      cells: [`${p.namespace}/${p.name}`, (p.selects || []).join(", ") || "(none)",
        counts(p.ingress && p.ingress.flows), counts(p.egress && p.egress.flows)],
    })));
    fill(this.wl.body, (data.workloads || []).map((w) => ({
      cls: w.gone ? "policy-gone" : "",
      cells: [`${w.namespace}/${w.name}`, w.netns ? `netns ${w.netns}` : `cgroup ${w.cgroup || ""}`,
        w.isolated_ingress ? "isolated" : "open", w.isolated_egress ? "isolated" : "open"],
    })));
    fill(this.flows.body, (data.flows || []).map(flowRow));
  },
};
