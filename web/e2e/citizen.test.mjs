// Citizen journeys and page-wide checks against a running kaifang demo.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { journey, visit, checkPage, screenshot, close, tmpFile, parseCSV } from "./lib.mjs";

after(close);

test("citizen searches 社保 in simplified characters, previews and downloads the CSV", async () => {
  const j = await journey();
  const { page } = j;
  await page.goto("/lang?to=zh-Hans&next=/");
  assert.equal(await page.getAttribute("html", "lang"), "zh-Hans");
  await page.getByRole("searchbox", { name: "搜索数据" }).fill("社保");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/search\?q=/);
  const result = page.locator("ol.result-list a[href='/datasets/social-insurance-enrollment']");
  await result.waitFor();
  assert.ok((await page.locator("ol.result-list mark").count()) > 0, "matches are highlighted");
  await screenshot(page, "citizen-search", true);
  await result.click();
  await page.waitForURL(/\/datasets\/social-insurance-enrollment$/);
  await checkPage(page, await (await page.request.get(page.url())).text(), "dataset page");

  const previewRows = await page.locator("table.preview tbody tr").count();
  assert.ok(previewRows >= 5, `preview shows rows (${previewRows})`);
  await page.locator("#chart[data-ready='true'] svg").waitFor();
  const ld = JSON.parse(await page.locator("script[type='application/ld+json']").textContent());
  assert.equal(ld["@type"], "Dataset");
  await screenshot(page, "citizen-dataset", true);

  const [dl] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("a[href$='download?format=csv']").click(),
  ]);
  const file = tmpFile("download.csv");
  await dl.saveAs(file);
  const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  const rows = parseCSV(text.trimEnd());
  assert.ok(rows[0].includes("月份") && rows[0].includes("養老保險參保人數"), `CSV header: ${rows[0]}`);
  assert.ok(rows.length > 100, `CSV has ${rows.length} rows`);
  assert.ok(rows.every((r) => r.length === rows[0].length), "every CSV row has the header's width");
  j.assertClean();
  await j.ctx.close();
});

// UI strings are text nodes whose nearest lang is the page's own; catalogue
// data (titles, agency names) is marked lang="zh" and stays as published.
async function uiStrings(page) {
  return page.evaluate(() => {
    const out = new Set();
    const root = document.documentElement;
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;
      const t = n.textContent.trim();
      if (!t || !el || el.closest("script,style") || el.closest("[lang]") !== root) continue;
      const r = el.getBoundingClientRect();
      const hidden = getComputedStyle(el).visibility === "hidden" || (r.width === 0 && r.height === 0);
      if (el.closest(".visually-hidden, .skip") ? false : hidden) continue;
      if (!/[\p{L}]/u.test(t)) continue; // numbers, dates, punctuation
      out.add(t);
    }
    for (const el of document.querySelectorAll("input[placeholder]")) out.add(el.placeholder);
    out.add(document.title);
    return [...out];
  });
}

test("the language switch changes every visible string on the home page", async () => {
  const j = await journey();
  const { page } = j;
  await visit(page, "/");
  assert.equal(await page.getAttribute("html", "lang"), "zh-Hant");
  const hant = await uiStrings(page);
  assert.ok(hant.length > 20, `found ${hant.length} UI strings`);
  await screenshot(page, "citizen-home", true);

  await page.getByRole("link", { name: "English" }).click();
  await page.waitForLoadState();
  assert.equal(await page.getAttribute("html", "lang"), "en");
  const en = await uiStrings(page);
  const same = hant.filter((s) => en.includes(s));
  assert.deepEqual(same, [], "strings left untranslated after switching to English");
  assert.ok(en.includes("High-value categories"));
  await screenshot(page, "citizen-home-en");

  await page.getByRole("link", { name: "简体中文" }).click();
  await page.waitForLoadState();
  assert.equal(await page.getAttribute("html", "lang"), "zh-Hans");
  const hans = await uiStrings(page);
  assert.ok(hans.includes("高价值领域"), "simplified heading");
  assert.ok(!hans.some((s) => en.includes(s) && /[A-Za-z]{4}/.test(s) && s !== "English"), "no English left in 简体中文");
  j.assertClean();
  await j.ctx.close();
});

test("every page is valid HTML5 and passes axe-core", async () => {
  const j = await journey();
  const { page } = j;
  const pages = [
    "/", "/search", "/search?q=%E7%A4%BE%E4%BF%9D&sort=updated", "/search?category=transport&page=1",
    "/agencies", "/agencies/xm-hrss", "/datasets/social-insurance-enrollment", "/datasets/weather-station-daily",
    "/datasets/personal-social-insurance-payments", "/datasets/personal-social-insurance-payments/api",
    "/developers", "/login", "/login?register=1",
  ];
  for (const p of pages) await visit(page, p);
  await page.goto("/lang?to=en&next=/");
  for (const p of ["/search?q=%E7%A4%BE%E4%BF%9D", "/login?register=1"]) await visit(page, p);
  j.assertClean();
  await j.ctx.close();
  // Error pages: their 404 is the point, so only the pages themselves are checked.
  const e = await journey();
  await visit(e.page, "/datasets/household-registration-details", 404); // a closed entry has no page
  await visit(e.page, "/datasets/no-such-entry", 404);
  assert.equal(await e.page.locator("h1").textContent(), "找不到頁面");
  await e.ctx.close();
});

test("keyboard only: search from the skip link to a dataset", async () => {
  const j = await journey();
  const { page } = j;
  await page.goto("/");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip");
  await page.focus("#site-q");
  await page.keyboard.type("空氣");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/search/);
  const link = page.locator("ol.result-list a").first();
  await link.focus();
  const outline = await link.evaluate((el) => getComputedStyle(el).outlineStyle);
  assert.notEqual(outline, "none", "focused link shows a focus ring");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/datasets\//);
  j.assertClean();
  await j.ctx.close();
});
