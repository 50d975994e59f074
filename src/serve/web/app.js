// ebee serve's page: one panel per running collector (each feature's src/<feature>/web/panel.js,
// collected into the bundle at build time), shown only while /api/collectors lists that
// collector running, with the health of every collector in the header. A token given as
// #token=... is kept for the session and sent as a bearer token on every API request.
const tokenFromHash = new URLSearchParams(location.hash.slice(1)).get("token");
if (tokenFromHash) {
  sessionStorage.setItem("ebeeToken", tokenFromHash);
  history.replaceState(null, "", location.pathname);
}
const headers = () => {
  const t = sessionStorage.getItem("ebeeToken");
  return t ? { Authorization: "Bearer " + t } : {};
};

async function api(path) {
  const r = await fetch(path, { cache: "no-store", headers: headers() });
  if (r.status === 401) throw new Error("this ebee needs a token: open the page as …/#token=TOKEN");
  if (!r.ok) throw new Error("HTTP " + r.status);
  return r.json();
}

function section(main, title, key) {
  const s = document.createElement("section");
  s.className = "panel";
  s.dataset.collector = key;
  const h = document.createElement("h2");
  h.textContent = title;
  const body = document.createElement("div");
  s.append(h, body);
  main.appendChild(s);
  return { s, body };
}

// Server-Sent Events over fetch (headers allowed), reconnecting with the last id seen; the first
// connection asks from id 0, so the list starts with what the daemon still keeps.
async function follow(path, onEvent) {
  let last = "0";
  for (;;) {
    try {
      const h = headers();
      if (last) h["Last-Event-ID"] = last;
      const r = await fetch(path, { headers: h, cache: "no-store" });
      if (!r.ok) throw new Error("HTTP " + r.status);
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const ev = { type: "message", data: "" };
          for (const line of buf.slice(0, i).split("\n")) {
            const c = line.indexOf(":");
            if (c <= 0) continue;
            const k = line.slice(0, c), v = line.slice(c + 1).replace(/^ /, "");
            if (k === "id") last = v;
            else if (k === "event") ev.type = v;
            else if (k === "data") ev.data += v;
          }
          buf = buf.slice(i + 2);
          if (ev.data) {
            try { onEvent(ev.type, JSON.parse(ev.data)); } catch (e) { /* one bad event */ }
          }
        }
      }
    } catch (e) { /* reconnect below */ }
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

function drawHealth(ul, collectors) {
  ul.replaceChildren(...collectors.map((c) => {
    const li = document.createElement("li");
    li.className = "health " + c.health;
    li.dataset.name = c.name;
    li.dataset.health = c.health;
    li.textContent = c.name;
    li.title = `${c.what}: ${c.health}${c.detail ? " — " + c.detail : ""}; ${c.events ?? 0} events`;
    return li;
  }));
}

export function start(panels) {
  const main = document.getElementById("panels");
  const status = document.getElementById("status");
  const health = document.getElementById("collectors");
  const mounted = new Map();
  let streaming = false;

  async function refresh() {
    try {
      const d = await api("api/collectors");
      drawHealth(health, d.collectors);
      const running = new Set(d.collectors.filter((c) => c.running).map((c) => c.name));
      const failed = d.collectors.filter((c) => c.health === "failed");
      for (const p of panels) {
        if (p.stream) {
          if (!streaming) {
            const { body } = section(main, p.title, "events");
            p.mount(body);
            streaming = true;
            follow("api/events", (t, e) => p.event(t, e));
          }
          continue;
        }
        let m = mounted.get(p);
        if (!m && running.has(p.collector)) {
          m = section(main, p.title, p.collector);
          p.mount(m.body);
          mounted.set(p, m);
        }
        if (!m) continue;
        m.s.hidden = !running.has(p.collector);
        if (m.s.hidden) continue;
        p.update(await api(`api/${p.collector}` + (p.query ? "?" + p.query : "")));
        m.s.dataset.ready = "1";
      }
      status.textContent = `${running.size} collectors running` +
        (failed.length ? ` · failed: ${failed.map((c) => c.name + " (" + (c.detail || "") + ")").join(", ")}` : "") +
        ` · updated ${new Date().toLocaleTimeString()}`;
      document.body.dataset.ready = "1";
    } catch (e) {
      status.textContent = "cannot reach ebee: " + e.message;
    }
  }
  refresh();
  setInterval(refresh, 2000);
}
