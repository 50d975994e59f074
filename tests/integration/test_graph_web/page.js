// Opens the graph panel's harness page (the panel bundled with cytoscape, fed one real
// /api/graph document) in headless chromium, waits for the drawing, clicks the first alert,
// saves a screenshot and prints what it found as JSON on stdout.
// usage: NODE_PATH=<playwright-core's node_modules> node page.js FILE_URL SCREENSHOT
const { chromium } = require("playwright-core");

(async () => {
  const [url, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const result = { errors: [], requests: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on("pageerror", (e) => result.errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && result.errors.push(m.text()));
    page.on("request", (r) => result.requests.push(r.url()));
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => window.panelReady &&
      Number(document.getElementById("graph-cy").dataset.drawn) >= 1, null, { timeout: 20000 });
    const box = () => page.$eval("#graph-cy", (b) => ({ ...b.dataset,
      canvases: b.querySelectorAll("canvas").length }));
    result.before = await box();
    result.options = await page.$$eval("#graph-lineage option", (os) =>
      os.map((o) => ({ value: o.value, text: o.textContent, selected: o.selected })));
    result.alerts = await page.$$eval("#graph-alerts tbody tr", (trs) =>
      trs.map((tr) => ({ rule: tr.dataset.rule, id: tr.dataset.alert,
                         cells: [...tr.children].map((td) => td.textContent) })));
    result.stats = await page.$eval("#graph-stats", (s) => s.textContent);
    await page.screenshot({ path: shot, fullPage: true });
    // another lineage, then back through the alert row
    if (result.options.length > 1) {
      await page.selectOption("#graph-lineage", result.options[1].value);
      result.other = await box();
    }
    if (result.alerts.length) {
      await page.click("#graph-alerts tbody tr");
      result.after = await box();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
})().catch((e) => { console.error(String(e)); process.exit(1); });
