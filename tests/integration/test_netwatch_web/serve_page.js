// Opens ebee serve's page (every panel) in headless chromium, waits for the panels of the
// running collectors and for `wantEvents` rows of the test's execs (comm ebeepage) in the live list, saves a screenshot, and prints
// what it found as JSON. usage: node serve_page.js URL SCREENSHOT WANT_EVENTS [WANT_PANELS]
const inPage = require("./browser");

const [url, shot, wantEvents, wantPanels] = process.argv.slice(2);
inPage(url, shot, { width: 1280, height: 1400 }, async (page, result) => {
  await page.waitForFunction(
    ([n, np]) => document.querySelectorAll("section.panel[data-ready='1']").length >= np &&
           document.querySelectorAll("#prog-top tbody tr").length > 0 &&
           document.querySelectorAll("#tcp-states tbody tr").length > 0 &&
           // the test's own execs (comm ebeepage): guard and graph put other rows there too
           [...document.querySelectorAll("#events tbody tr")]
             .filter((tr) => tr.textContent.includes("ebeepage")).length >= n,
    [Number(wantEvents), Number(wantPanels || 2)], { timeout: 30000 });
  result.panels = await page.$$eval("section.panel", (ss) => ss.map((s) => ({
    collector: s.dataset.collector, title: s.querySelector("h2").textContent, hidden: s.hidden,
    ready: s.dataset.ready === "1", text: s.textContent.slice(0, 2000) })));
  result.health = await page.$$eval("#collectors li", (ls) => ls.map((l) => [l.dataset.name, l.dataset.health]));
  result.tcp = await page.$$eval("#tcp-states tbody tr", (trs) => trs.map((tr) => tr.dataset.state));
  result.conns = await page.$$eval("#tcp-recent tbody tr", (trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  result.prog = await page.$$eval("#prog-top tbody tr", (trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  result.events = await page.$$eval("#events tbody tr", (trs) =>
    trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  result.status = await page.$eval("#status", (s) => s.textContent);
});
