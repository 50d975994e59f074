// Build step: inlines the esbuild bundle into index.html (one self-contained page) and writes
// it as a C header: node embed.js index.html bundle.js out.h
const fs = require("fs");
const [html, js, out] = process.argv.slice(2);
const bundle = fs.readFileSync(js, "utf8").replace(/<\/script/gi, "<\\/script");
const page = Buffer.from(fs.readFileSync(html, "utf8").replace("/*EBEE_BUNDLE*/", () => bundle));
let s = "/* Generated from src/serve/web by embed.js: do not edit. */\n" +
  "static const unsigned char serve_page[] = {\n";
for (let i = 0; i < page.length; i += 20)
  s += "\t" + [...page.subarray(i, i + 20)].map((b) => b + ",").join("") + "\n";
s += "};\nstatic const unsigned int serve_page_len = " + page.length + ";\n";
fs.writeFileSync(out, s);
