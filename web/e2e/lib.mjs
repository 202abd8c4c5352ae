// Shared helpers of the browser tests: one Chromium for the run, one fresh
// context per journey, and checks every page must pass (no console error, no
// failed request, valid HTML5, no serious axe-core violation).
import { chromium } from "playwright-core";
import { HtmlValidate } from "html-validate";
import axe from "axe-core";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";

export const BASE = process.env.KAIFANG_E2E_URL || "http://127.0.0.1:8080";
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const OUT = path.join(root, "test-output", "screenshots");
export const COMMITTED = path.join(root, "web", "e2e", "screenshots");
fs.mkdirSync(OUT, { recursive: true });

let browser;
export async function launch() {
  if (browser) return browser;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return browser;
}
export async function close() { if (browser) await browser.close(); browser = undefined; }

// journey opens a fresh context (its own cookies, like a new user) whose
// pages record every console error, page error and failed request.
export async function journey() {
  const b = await launch();
  const ctx = await b.newContext({ acceptDownloads: true, baseURL: BASE, locale: "zh-TW" });
  const problems = [];
  const downloads = new Set();
  ctx.on("page", (p) => watch(p, problems, downloads));
  const page = await ctx.newPage();
  return {
    ctx, page, problems,
    expectDownload: (url) => downloads.add(url),
    assertClean() {
      assert.deepEqual(problems, [], "console errors or failed requests:\n" + problems.join("\n"));
    },
  };
}

function watch(page, problems, downloads) {
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()} (${page.url()})`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message} (${page.url()})`));
  page.on("requestfailed", (r) => {
    // A download ends its navigation request as "aborted": that is success.
    if (downloads.has(r.url()) || /\/download\?/.test(r.url())) return;
    // The browser drops a page's icon fetch when the page navigates on
    // before it finished: nothing a user sees, and no server fault.
    if (/\/static\/favicon\.[0-9a-f]+\.svg$/.test(r.url()) && r.failure()?.errorText === "net::ERR_ABORTED") return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
}

const hv = new HtmlValidate({ extends: ["html-validate:standard", "html-validate:document"] });

// checkPage validates the served HTML and runs axe-core on the rendered page.
export async function checkPage(page, html, label) {
  const report = await hv.validateString(html, label);
  const msgs = report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId} ${m.line}:${m.column} ${m.message}`));
  assert.equal(report.valid, true, `${label}: HTML5 validation:\n${msgs.join("\n")}`);
  await page.evaluate(axe.source);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const serious = res.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`), [],
    `${label}: axe-core serious violations`);
}

// visit goes to a path, asserts the status and checks the page.
export async function visit(page, p, status = 200) {
  const resp = await page.goto(p);
  assert.equal(resp.status(), status, `${p}: status`);
  await checkPage(page, await resp.text(), p);
  return resp;
}

export async function screenshot(page, name, commit = false) {
  const file = path.join(OUT, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  if (commit) {
    fs.mkdirSync(COMMITTED, { recursive: true });
    fs.copyFileSync(file, path.join(COMMITTED, name + ".png"));
  }
  return file;
}

export function tmpFile(name) { return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kaifang-e2e-")), name); }

// parseCSV reads RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF).
export function parseCSV(text) {
  const rows = []; let row = []; let f = ""; let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ",") { row.push(f); f = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(f); rows.push(row); row = []; f = "";
    } else f += c;
  }
  if (f !== "" || row.length) { row.push(f); rows.push(row); }
  return rows;
}
