// netwatch's panel in ebee serve's page: a world map with a dot per location (sized by
// packets) and the busiest sources, from /api/netwatch. d3-geo, topojson-client and
// world-atlas are bundled at build time, so the page needs nothing from the internet.
import { geoNaturalEarth1, geoPath, geoGraticule10 } from "d3-geo";
import { feature, mesh } from "topojson-client";
import world from "world-atlas/countries-110m.json";
import { tableRow } from "../../serve/web/dom.js";

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

export const fmtBytes = (n) => {
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
    return tableRow("source", [s.addr, place(s), s.country_code || "", [s.packets, "num"],
      [fmtBytes(s.bytes), "num"], [(s.pps || 0).toFixed(1), "num"],
      (s.last_seen || "").replace("T", " ").replace(/\.\d+Z$/, "Z")]);
  });
  tbody.replaceChildren(...rows);
}

export default {
  collector: "netwatch",
  title: "Where traffic comes from",
  query: "top=500",
  mount(root) {
    root.innerHTML = `<svg id="map" role="img" aria-label="world map of traffic sources"></svg>
      <p class="sub" id="nw-status"></p>
      <table id="sources"><thead><tr><th>Address</th><th>Location</th><th>CC</th>
      <th class="num">Packets</th><th class="num">Bytes</th><th class="num">Pkt/s</th>
      <th>Last seen (UTC)</th></tr></thead><tbody></tbody></table>`;
    this.dots = drawMap(root.querySelector("#map"));
    this.tbody = root.querySelector("#sources tbody");
    this.status = root.querySelector("#nw-status");
  },
  update(d) {
    drawDots(this.dots, locations(d.sources || []));
    drawTable(this.tbody, d.sources || []);
    const t = d.totals || {};
    this.status.textContent = `${t.sources} sources (${d.shown} shown), ${t.packets} packets, ` +
      `${fmtBytes(t.bytes || 0)}, ${t.evicted} evicted · interfaces: ` +
      (d.interfaces || []).map((i) => `${i.name} (${i.attach}${i.gone ? ", gone" : ""})`).join(", ");
    const attr = document.getElementById("geo-attribution");
    if (attr) {
      attr.replaceChildren();
      if (d.attribution) {
        const a = document.createElement("a");
        a.href = d.attribution.url;
        a.textContent = d.attribution.text;
        attr.appendChild(a);
      } else {
        attr.textContent = "the GeoIP database given with --geoip";
      }
    }
  },
};
