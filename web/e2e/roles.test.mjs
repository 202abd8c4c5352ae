// Journeys of developers, reviewers, publishers and the data authority
// against a running kaifang demo (accounts from `kaifang demo`).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { journey, checkPage, visit, screenshot, close, tmpFile } from "./lib.mjs";

after(close);

const DEMO_PASSWORD = "kaifang-demo-2026";
const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), "fixtures");
const SLUG = "personal-social-insurance-payments";

async function signIn(page, email) {
  await page.goto("/login");
  await page.getByLabel("電子郵件").fill(email);
  await page.getByLabel(/密碼/).fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "登入" }).click();
  await page.waitForURL(/\/$/);
}

test("developer registers, signs in and out", async () => {
  const j = await journey();
  const { page } = j;
  await page.goto("/developers");
  await page.getByRole("link", { name: "註冊", exact: true }).first().click();
  const email = `dev-${Date.now()}@example.org`;
  await page.getByLabel("姓名或機構名稱").fill("陳開發");
  await page.getByLabel("電子郵件").fill(email);
  await page.getByLabel(/密碼/).fill("correct horse battery staple");
  await page.getByRole("button", { name: "註冊並登入" }).click();
  await page.waitForURL(/\/$/);
  assert.match(await page.locator(".who").textContent(), /陳開發/);
  await checkPage(page, await (await page.request.get("/developers")).text(), "developers");
  await page.goto(`/datasets/${SLUG}/api`);
  assert.match(await page.locator("pre code").first().textContent(), /YOUR_API_KEY/);
  await screenshot(page, "developer-api", true);
  await page.getByRole("button", { name: "登出" }).click();
  await page.waitForURL(/\/$/);
  assert.equal(await page.locator(".who").count(), 0);
  j.assertClean();
  await j.ctx.close();
});

test("developer applies for a conditional entry, reviewer approves narrowing a field, the key works", async () => {
  // The developer registers and applies for three fields.
  const dev = await journey();
  const d = dev.page;
  const name = `林開發${Date.now() % 100000}`;
  await d.goto("/login?register=1");
  await d.getByLabel("姓名或機構名稱").fill(name);
  await d.getByLabel("電子郵件").fill(`apply-${Date.now()}@example.org`);
  await d.getByLabel(/密碼/).fill("correct horse battery staple");
  await d.getByRole("button", { name: "註冊並登入" }).click();
  await d.waitForURL(/\/$/);
  await visit(d, `/datasets/${SLUG}/apply`);
  await d.getByLabel("應用場景").fill("銀行開戶時核驗客戶的社保繳費記錄");
  await d.getByLabel("用途").fill("信貸審核");
  for (const f of ["姓名", "繳費月份", "險種"]) await d.getByRole("checkbox", { name: f, exact: true }).check();
  await d.getByRole("checkbox", { name: "查詢引用" }).check();
  await d.getByLabel("預計調用量").fill("每日 1000 次");
  await d.getByRole("button", { name: "提交申請" }).click();
  await d.waitForURL(/\/account\/applications\?created=/);
  assert.match(await d.locator("table.data tbody").textContent(), /待審核/);
  await checkPage(d, await (await d.request.get("/account/applications")).text(), "my applications");
  await screenshot(d, "developer-applications", true);

  // The reviewer of the agency approves without 險種.
  const rev = await journey();
  const r = rev.page;
  await signIn(r, "reviewer@demo.kaifang.local");
  await visit(r, "/review/applications");
  const row = r.locator("#review-queue tbody tr", { hasText: name });
  await row.waitFor();
  await screenshot(r, "reviewer-queue", true);
  await row.getByRole("link", { name: "審核" }).click();
  await r.waitForURL(/\/review\/applications\/[^/]+$/);
  await checkPage(r, await (await r.request.get(r.url())).text(), "review application");
  await r.getByRole("checkbox", { name: "險種", exact: true }).uncheck();
  await r.getByRole("button", { name: "批准" }).click();
  await r.locator("#app-state", { hasText: "已批准" }).waitFor();
  await visit(r, "/review/entries");
  rev.assertClean();
  await rev.ctx.close();

  // The developer creates a key; it opens the approved fields only.
  await visit(d, "/account/keys");
  await d.getByLabel("名稱").fill("核驗服務");
  await d.getByRole("button", { name: "建立密鑰", exact: true }).click();
  const key = (await d.locator("#new-key").textContent()).trim();
  assert.match(key, /^kf_/);
  await screenshot(d, "developer-keys", true);
  const headers = { "X-API-Key": key };
  const ok = await d.request.get(`/api/v1/datasets/${SLUG}/records?fields=${encodeURIComponent("姓名,繳費月份")}&limit=5`, { headers });
  assert.equal(ok.status(), 200, await ok.text());
  const body = await ok.json();
  assert.ok(body.records.length > 0, "records come back");
  const cols = Object.keys(body.records[0]);
  assert.ok(cols.includes("姓名") && cols.includes("繳費月份"), `columns: ${cols}`);
  assert.ok(!cols.includes("險種") && !cols.includes("身份證號"), `only approved fields: ${cols}`);
  const denied = await d.request.get(`/api/v1/datasets/${SLUG}/records?fields=${encodeURIComponent("險種")}`, { headers });
  assert.equal(denied.status(), 403);
  await visit(d, "/account/usage");
  dev.assertClean();
  await dev.ctx.close();
});

test("publisher imports a list with one bad row, fixes it, uploads a GBK CSV and sees its rows", async () => {
  const j = await journey();
  const { page } = j;
  await signIn(page, "publisher@demo.kaifang.local");
  await visit(page, "/publish");
  await screenshot(page, "publisher-list", true);
  const header = "title,slug,description,category,open_class,frequency,formats\n";
  const good = "分省年末常住人口（匯入示範）,province-population-demo,國家統計局分省年末常住人口,social_security,open,yearly,csv\n";
  const bad = "社保經辦網點,si-service-points-demo,各區社保經辦服務網點地址,social_security,sometimes,monthly,csv\n";
  const file = tmpFile("open-list.csv");
  fs.writeFileSync(file, header + good + bad);
  await page.getByLabel("清單文件").setInputFiles(file);
  await page.getByRole("button", { name: "匯入", exact: true }).click();
  await page.locator("table.bad-rows").waitFor();
  const bads = page.locator("table.bad-rows tbody tr");
  assert.equal(await bads.count(), 1, "one bad row reported");
  const cells = await bads.first().locator("td").allTextContents();
  assert.equal(cells[0].trim(), "2", `row number: ${cells}`);
  assert.match(cells[3], /open_class/);
  await screenshot(page, "publisher-import-errors");

  fs.writeFileSync(file, header + good + bad.replace("sometimes", "open"));
  await page.getByLabel("清單文件").setInputFiles(file);
  await page.getByRole("button", { name: "匯入", exact: true }).click();
  await page.locator("#import-report").waitFor();
  assert.match(await page.locator("#import-report").textContent(), /2/);
  assert.equal(await page.locator("table.bad-rows").count(), 0);

  await page.getByRole("link", { name: "分省年末常住人口（匯入示範）" }).click();
  await page.waitForURL(/\/publish\/entries\//);
  await checkPage(page, await (await page.request.get(page.url())).text(), "entry page");
  await page.getByLabel("數據文件").setInputFiles(path.join(FIXTURES, "cn_nbs_province_population_annual_gbk.csv"));
  await page.getByRole("button", { name: "上傳並載入" }).click();
  await page.waitForURL(/\/versions\/1$/);
  assert.equal((await page.locator("#ver-rows").textContent()).trim(), "31");
  assert.equal((await page.locator("#ver-encoding").textContent()).trim(), "GB18030");
  assert.equal((await page.locator("#ver-state").textContent()).trim(), "已載入");
  await checkPage(page, await (await page.request.get(page.url())).text(), "version page");
  await screenshot(page, "publisher-version");
  await visit(page, "/publish/new");
  j.assertClean();
  await j.ctx.close();
});

test("the data authority sees every agency, late entries and the calendar", async () => {
  const j = await journey();
  const { page } = j;
  await signIn(page, "admin@demo.kaifang.local");
  await visit(page, "/admin");
  assert.ok((await page.locator("#agency-counts tbody tr").count()) >= 5, "every agency counted");
  assert.ok((await page.locator("#calendar-years li").count()) >= 1, "calendar years listed");
  await screenshot(page, "admin-overview", true);
  await visit(page, "/admin/users");
  assert.match(await page.locator("table.data").last().textContent(), /publisher@demo\.kaifang\.local/);
  await visit(page, "/publish?agency=xm-hrss");
  // A developer is refused the data authority's and reviewers' pages.
  const other = await journey();
  await signIn(other.page, "developer@demo.kaifang.local");
  for (const p of ["/admin", "/review/applications", "/publish"]) {
    const resp = await other.page.request.get(p);
    assert.equal(resp.status(), 403, p);
  }
  await other.ctx.close();
  j.assertClean();
  await j.ctx.close();
});
