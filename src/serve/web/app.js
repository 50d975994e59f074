// ebee serve's page: a world map with a dot per location (sized by packets) and a live table,
// from /api/netwatch. Bundled with d3-geo, topojson-client and world-atlas at build time, so
// it needs nothing from the internet.
import { geoNaturalEarth1, geoPath, geoGraticule10 } from "d3-geo";
import { feature, mesh } from "topojson-client";
import world from "world-atlas/countries-110m.json";

const SVG = "http://www.w3.org/2000/svg";
const W = 960, H = 500;
const projection = geoNaturalEarth1().fitExtent([[8, 8], [W - 8, H - 8]], { type: "Sphere" });
const path = geoPath(projection);

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function drawMap(svg) {
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  el("path", { d: path({ type: "Sphere" }), class: "sphere" }, svg);
  el("path", { d: path(geoGraticule10()), class: "graticule" }, svg);
  el("path", { d: path(feature(world, world.objects.countries)), class: "land" }, svg);
  el("path", { d: path(mesh(world, world.objects.countries, (a, b) => a !== b)), class: "borders" }, svg);
  return el("g", { id: "dots" }, svg);
}

const fmtBytes = (n) => {
  const u = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
};

function place(s) {
  if (s.geo === "db") return [s.city, s.region, s.country || s.country_code].filter(Boolean).join(", ");
  return s.city || "unknown";
}

// One dot per location: sources at the same coordinates share it.
function locations(sources) {
  const m = new Map();
  for (const s of sources) {
    if (typeof s.lat !== "number" || typeof s.lon !== "number") continue;
    const key = s.lat.toFixed(2) + "," + s.lon.toFixed(2);
    let l = m.get(key);
    if (!l) m.set(key, (l = { lat: s.lat, lon: s.lon, name: place(s), packets: 0, bytes: 0, sources: 0 }));
    l.packets += s.packets; l.bytes += s.bytes; l.sources++;
  }
  return [...m.values()].sort((a, b) => b.packets - a.packets);
}

function drawDots(g, locs) {
  while (g.firstChild) g.removeChild(g.firstChild);
  const max = Math.max(1, ...locs.map((l) => l.packets));
  for (const l of locs) {
    const p = projection([l.lon, l.lat]);
    if (!p) continue;
    const c = el("circle", {
      cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: (3 + 17 * Math.sqrt(l.packets / max)).toFixed(1),
      class: "dot", "data-location": l.name, "data-packets": l.packets,
    }, g);
    el("title", {}, c).textContent = `${l.name}: ${l.sources} source(s), ${l.packets} packets, ${fmtBytes(l.bytes)}`;
  }
}

function drawTable(tbody, sources) {
  const rows = sources.map((s) => {
    const tr = document.createElement("tr");
    tr.className = "source";
    const cells = [s.addr, place(s), s.country_code || "", s.packets, fmtBytes(s.bytes),
                   (s.pps || 0).toFixed(1), (s.last_seen || "").replace("T", " ").replace(/\.\d+Z$/, "Z")];
    cells.forEach((v, i) => {
      const td = document.createElement("td");
      td.textContent = v;
      if (i >= 3 && i <= 5) td.className = "num";
      tr.appendChild(td);
    });
    return tr;
  });
  tbody.replaceChildren(...rows);
}

async function refresh(state) {
  try {
    const r = await fetch("api/netwatch?top=500", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const d = await r.json();
    drawDots(state.dots, locations(d.sources));
    drawTable(state.tbody, d.sources);
    const t = d.totals;
    state.status.textContent = `${t.sources} sources (${d.shown} shown), ${t.packets} packets, ` +
      `${fmtBytes(t.bytes)}, ${t.evicted} evicted · interfaces: ` +
      d.interfaces.map((i) => `${i.name} (${i.attach}${i.gone ? ", gone" : ""})`).join(", ") +
      ` · updated ${new Date().toLocaleTimeString()}`;
    state.attr.replaceChildren();
    if (d.attribution) {
      const a = document.createElement("a");
      a.href = d.attribution.url;
      a.textContent = d.attribution.text;
      state.attr.appendChild(a);
    } else {
      state.attr.textContent = "the GeoIP database given with --geoip";
    }
    document.body.dataset.ready = "1";
  } catch (e) {
    state.status.textContent = "cannot reach ebee: " + e.message;
  }
}

window.addEventListener("DOMContentLoaded", () => {
  const state = {
    dots: drawMap(document.getElementById("map")),
    tbody: document.querySelector("#sources tbody"),
    status: document.getElementById("status"),
    attr: document.getElementById("geo-attribution"),
  };
  refresh(state);
  setInterval(() => refresh(state), 2000);
});
