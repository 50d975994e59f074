// The headless Chromium session of the page tests (page.js, serve_page.js): Debian's chromium
// driven by playwright-core, page errors and requests recorded, `look(page, result)` fills in what
// the test checks, then a full-page screenshot, and the result goes to stdout as JSON.
const { chromium } = require("playwright-core");

module.exports = function inPage(url, shot, viewport, look) {
  (async () => {
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const result = { errors: [], requests: [] };
    try {
      const page = await browser.newPage({ viewport });
      page.on("pageerror", (e) => result.errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && result.errors.push(m.text()));
      page.on("request", (r) => result.requests.push(r.url()));
      await page.goto(url, { waitUntil: "load" });
      await look(page, result);
      await page.screenshot({ path: shot, fullPage: true });
    } finally {
      await browser.close();
    }
    process.stdout.write(JSON.stringify(result) + "\n");
  })().catch((e) => { console.error(String(e)); process.exit(1); });
};
