// The delivery state on the dashboard (issue 11, item 6) in Debian's Chromium against a real
// `wrangler dev` relay: each feed line says what became of its copy (stored, delivered via …,
// acked), and the "not reading" panel lists the agents holding undelivered messages, oldest first,
// with how long the oldest has waited. States reach the feed with the recipient inbox's next push
// (FEED_FLUSH_MS, 200 ms here) and the page at its next refresh (every 10 s).

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page, type Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import { randomAdminKey, registerAgent, relayCaller, startTestRelay, uniqueName, type RegisteredAgent, type TestRelay } from "../support/node-relay.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
/** The dashboard refreshes every 10 s; allow two rounds and a slow machine. */
const WAIT_MS = 25_000;
const ARTIFACTS = join(PROJECT_ROOT, "test-results");

const adminKey = randomAdminKey();
let testRelay: TestRelay | undefined;
let browser: Browser | undefined;
const call = relayCaller(() => testRelay!.url, { timeoutMs: 10_000 });

const register = (prefix: string) => registerAgent(testRelay!, uniqueName(prefix, 4));

async function sendText(from: RegisteredAgent, to: RegisteredAgent, payload: string): Promise<string> {
  const reply = await call<{ id: string }>("POST", "/messages", from.apiKey, { to: to.name, type: "notification", encrypted: false, payload });
  if (reply.status !== 201) throw new Error(`send: ${reply.status} ${reply.text}`);
  return reply.body.id;
}

interface View {
  page: Page;
  problems: string[];
}

/** A signed-in page; it must end without a CSP violation, a dialog or an uncaught error. */
async function withDashboard(body: (view: View) => Promise<void>): Promise<void> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const view: View = { page, problems: [] };
  page.on("dialog", (dialog) => {
    view.problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) view.problems.push(message.text());
  });
  page.on("pageerror", (error) => view.problems.push(error.message));
  try {
    await page.goto(`${testRelay!.url}/dashboard`);
    await page.fill("#admin-key", adminKey);
    await page.click("#login-submit");
    await page.locator("#dashboard-view").waitFor({ state: "visible" });
    await body(view);
  } finally {
    await context.close().catch(() => undefined);
  }
  expect(view.problems).toEqual([]);
}

const feedState = (page: Page, id: string) => page.locator(`#feed li.feed-item[data-id="${id}"] .state`);
const backlogRow = (page: Page, agent: RegisteredAgent) => page.locator(`#backlog li.backlog-row[data-agent="${agent.name}"]`);
const backlogAgents = (page: Page) => page.locator("#backlog li.backlog-row").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-agent")));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("Chromium missing: run apt-get install -y chromium");
  testRelay = await startTestRelay({ prefix: "clawtalk-dashboard-delivery-", adminKey, vars: { RATE_LIMIT_PER_MIN: "100000", FEED_FLUSH_MS: "200" } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await testRelay?.cleanup();
});

describe("the dashboard's delivery state", () => {
  it("a feed line goes stored → delivered via poll → acked, and an agent that has not read is listed with its wait until it reads (screenshot: dashboard-delivery.png)", async () => {
    const [alice, bob, carol] = await Promise.all([register("alice"), register("bob"), register("carol")]);
    const toBob = await sendText(alice, bob, "for bob, who will read it");
    const toCarol = await sendText(alice, carol, "for carol, who will not");

    await withDashboard(async ({ page }) => {
      await expect.poll(() => feedState(page, toBob).textContent(), { timeout: WAIT_MS }).toBe("stored");
      expect(await feedState(page, toBob).getAttribute("class")).toContain("state-stored");

      // Both recipients hold an undelivered message: bob's is older (sent first), so listed first.
      await expect.poll(() => backlogAgents(page), { timeout: WAIT_MS }).toEqual([bob.name, carol.name]);
      expect(await backlogRow(page, carol).locator(".agent-name").textContent()).toBe(carol.name);
      expect(await backlogRow(page, carol).locator(".backlog-age").textContent()).toMatch(/^\d+ s$/);
      // Seconds old: not highlighted (that takes five minutes).
      expect(await backlogRow(page, carol).getAttribute("class")).not.toContain("late");

      // Bob reads his inbox: his line says how it was delivered, and he is no longer listed.
      expect((await call("GET", "/messages", bob.apiKey)).status).toBe(200);
      await expect.poll(() => feedState(page, toBob).textContent(), { timeout: WAIT_MS }).toBe("delivered via poll");
      await expect.poll(() => backlogAgents(page), { timeout: WAIT_MS }).toEqual([carol.name]);
      expect(await feedState(page, toCarol).textContent()).toBe("stored");

      expect((await call("DELETE", `/messages/${toBob}`, bob.apiKey)).status).toBe(204);
      await expect.poll(() => feedState(page, toBob).textContent(), { timeout: WAIT_MS }).toBe("acked");
      // One line per copy, updated in place.
      expect(await page.locator(`#feed li.feed-item[data-id="${toBob}"]`).count()).toBe(1);
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-delivery.png") });

      // Carol reads too: nobody is left.
      expect((await call("GET", "/messages", carol.apiKey)).status).toBe(200);
      await expect.poll(() => backlogAgents(page), { timeout: WAIT_MS }).toEqual([]);
      expect(await page.locator("#backlog li.empty").textContent()).toMatch(/every agent/);
    });
  });

  it("an agent whose oldest undelivered message waited over five minutes is highlighted (the relay's answer aged in the browser)", async () => {
    const [alice, dave] = await Promise.all([register("alice"), register("dave")]);
    await sendText(alice, dave, "never read");
    await withDashboard(async ({ page }) => {
      // Five minutes cannot pass in a test: the real /admin/stats answer is shifted seven minutes on.
      await page.route(
        (url) => url.origin === testRelay!.url && url.pathname === "/admin/stats",
        async (route: Route) => {
          const response = await route.fetch();
          const stats = (await response.json()) as { generatedAt: string };
          await route.fulfill({ response, json: { ...stats, generatedAt: new Date(Date.parse(stats.generatedAt) + 7 * 60_000).toISOString() } });
        },
      );
      const row = backlogRow(page, dave);
      await expect.poll(() => row.locator(".backlog-age").textContent(), { timeout: WAIT_MS }).toMatch(/^7 min$/);
      expect(await row.getAttribute("class")).toContain("late");
    });
  });
});
