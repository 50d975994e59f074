// Opens ebee serve's page in headless chromium, waits until the map has `want` dots and the
// table `rows` rows, saves a screenshot, and prints what it found as JSON on stdout.
// usage: node page.js URL SCREENSHOT WANT_DOTS WANT_ROWS
const inPage = require("./browser");

const [url, shot, wantDots, wantRows] = process.argv.slice(2);
inPage(url, shot, { width: 1280, height: 900 }, async (page, result) => {
  await page.waitForFunction(
    ([d, r]) => document.querySelectorAll("circle.dot").length >= d &&
                document.querySelectorAll("#sources tbody tr").length >= r,
    [Number(wantDots), Number(wantRows)], { timeout: 20000 });
  result.dots = await page.$$eval("circle.dot", (cs) => cs.map((c) => {
    const b = c.getBoundingClientRect();
    return { location: c.dataset.location, packets: Number(c.dataset.packets),
             r: Number(c.getAttribute("r")), visible: b.width > 0 && b.height > 0 };
  }));
  result.rows = await page.$$eval("#sources tbody tr", (trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  result.land = await page.$$eval("path.land", (ps) => ps.map((p) => p.getAttribute("d").length));
  result.attribution = await page.$eval("footer", (f) => f.innerText);
  result.tableVisible = await page.isVisible("#sources");
});
