// The dashboard's audit view (SPEC §13, §7) in Debian's Chromium against a real `wrangler dev`
// relay that publishes an operator key (AUDIT_PUBLIC_KEY): agents log entries through the SDK,
// which seals them to it; the page lists them, opens sealed ones with the secret key typed in
// (kept in sessionStorage, never sent), filters, pages by cursor, and renders every string as text.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page, type Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClawTalkClient, generateAuditKeys, type AuditKeys } from "../../client/index.js";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import type { AuditEntry, JsonValue } from "../../protocol/envelope.js";
import { randomAdminKey, registerAgent, relayCaller, startTestRelay, uniqueName, type RegisteredAgent, type TestRelay } from "../support/node-relay.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
const WAIT_MS = 20_000;
const ARTIFACTS = join(PROJECT_ROOT, "test-results");
const IMG_MARKUP = "<img src=x onerror=alert(1)>";
const SCRIPT_MARKUP = "<script>alert(1)</script><b>bold</b>";

const adminKey = randomAdminKey();
const operator: AuditKeys = generateAuditKeys();
let testRelay: TestRelay | undefined;
let browser: Browser | undefined;
let alice: RegisteredAgent;
let bob: RegisteredAgent;
const call = relayCaller(() => testRelay!.url);

function sdk(agent: RegisteredAgent): ClawTalkClient {
  return new ClawTalkClient({ baseUrl: testRelay!.url, apiKey: agent.apiKey, agentName: agent.name });
}

/** An entry logged through the SDK, so sealed to the relay's audit key. */
async function logSealed(agent: RegisteredAgent, to: string, topic: string, payload: JsonValue): Promise<AuditEntry> {
  return sdk(agent).audit({ messageId: crypto.randomUUID(), direction: "sent", from: agent.name, to, topic, payload, ts: new Date().toISOString() });
}

/** An entry logged in plaintext with plain HTTP (the relay does not require sealing). */
async function logPlain(agent: RegisteredAgent, to: string, topic: string, payload: JsonValue): Promise<AuditEntry> {
  const reply = await call("POST", "/audit", agent.apiKey, { messageId: crypto.randomUUID(), direction: "sent", from: agent.name, to, topic, payload, ts: new Date().toISOString() });
  if (reply.status !== 201) throw new Error(`audit: ${reply.status} ${reply.text}`);
  return reply.body as AuditEntry;
}

interface View {
  page: Page;
  dialogs: string[];
  cspViolations: string[];
  pageErrors: string[];
  /** Every request the page made: URL, headers and body, to show what left the page. */
  sent: string[];
}

async function withAuditView(body: (view: View) => Promise<void>): Promise<void> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const view: View = { page, dialogs: [], cspViolations: [], pageErrors: [], sent: [] };
  page.on("dialog", (dialog) => {
    view.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) view.cspViolations.push(message.text());
  });
  page.on("pageerror", (error) => view.pageErrors.push(error.message));
  page.on("request", (request) => view.sent.push(`${request.url()} ${JSON.stringify(request.headers())} ${request.postData() ?? ""}`));
  try {
    await page.goto(`${testRelay!.url}/dashboard`);
    await page.fill("#admin-key", adminKey);
    await page.click("#login-submit");
    await page.locator("#dashboard-view").waitFor({ state: "visible" });
    await page.click("#view-audit");
    await page.locator("#audit-view").waitFor({ state: "visible" });
    await body(view);
  } finally {
    await context.close().catch(() => undefined);
  }
  expect(view.cspViolations).toEqual([]);
  expect(view.dialogs).toEqual([]);
  expect(view.pageErrors).toEqual([]);
}

const entryNode = (page: Page, messageId: string) => page.locator(`#audit-entries li.audit-entry[data-message-id="${messageId}"]`);

async function filterTopic(page: Page, topic: string): Promise<void> {
  await page.fill("#audit-topic", topic);
  await page.click("#audit-apply");
}

async function useSecretKey(page: Page, key: string): Promise<void> {
  await page.fill("#audit-secret", key);
  await page.click("#audit-use-key");
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("Chromium missing: run apt-get install -y chromium");
  testRelay = await startTestRelay({ prefix: "clawtalk-dashboard-audit-", adminKey, vars: { AUDIT_PUBLIC_KEY: operator.publicKey, AUDIT_PER_MIN: "100000" } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  [alice, bob] = await Promise.all([registerAgent(testRelay, uniqueName("alice", 4)), registerAgent(testRelay, uniqueName("bob", 4))]);
});

afterAll(async () => {
  await browser?.close();
  await testRelay?.cleanup();
});

describe("the dashboard's audit view", () => {
  it("opens a sealed entry in the page with the operator's secret key, kept in sessionStorage only and never sent (screenshot: dashboard-audit.png)", async () => {
    const topic = `sealed.${uniqueName("t", 3)}`;
    const payload = { text: `the merger closes on friday ${uniqueName("s", 3)}`, code: 42 };
    const sealed = await logSealed(alice, bob.name, topic, payload);
    expect(sealed.sealed).toBe(true);
    await withAuditView(async ({ page, sent }) => {
      await filterTopic(page, topic);
      const node = entryNode(page, sealed.messageId);
      await node.waitFor({ timeout: WAIT_MS });
      expect(await node.getAttribute("data-state")).toBe("sealed");
      expect(await node.locator("svg.lock").count()).toBe(1);
      expect(await node.textContent()).not.toContain(payload.text);

      await useSecretKey(page, operator.secretKey);
      await page.locator(`#audit-entries li[data-message-id="${sealed.messageId}"][data-state="opened"]`).waitFor({ timeout: WAIT_MS });
      expect(await node.locator(".audit-payload").textContent()).toBe(JSON.stringify(payload, null, 2));
      expect(await page.inputValue("#audit-secret")).toBe("");

      const storage = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: Object.values(localStorage) }));
      expect(storage.session).toContain(operator.secretKey);
      expect(storage.local).not.toContain(operator.secretKey);
      expect(sent.length).toBeGreaterThan(0);
      for (const line of sent) expect(line).not.toContain(operator.secretKey);

      // Another key opens nothing; the right key pasted as the whole key file opens it again.
      await useSecretKey(page, generateAuditKeys().secretKey);
      await page.locator(`#audit-entries li[data-message-id="${sealed.messageId}"][data-state="unreadable"]`).waitFor({ timeout: WAIT_MS });
      await useSecretKey(page, JSON.stringify(operator));
      await page.locator(`#audit-entries li[data-message-id="${sealed.messageId}"][data-state="opened"]`).waitFor({ timeout: WAIT_MS });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-audit.png") });

      await page.click("#logout");
      await page.locator("#login-form").waitFor({ state: "visible" });
      expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
      expect(await page.locator("#audit-view").isVisible()).toBe(false);
    });
  });

  it("renders markup in payloads, plaintext or opened, and in every field as literal text", async () => {
    const topic = `markup.${uniqueName("t", 3)}`;
    const plain = await logPlain(alice, bob.name, topic, SCRIPT_MARKUP);
    const opened = await logSealed(bob, alice.name, topic, { text: IMG_MARKUP });
    const fake: AuditEntry = {
      messageId: IMG_MARKUP,
      direction: "received",
      from: IMG_MARKUP,
      to: [IMG_MARKUP, SCRIPT_MARKUP],
      topic: IMG_MARKUP,
      correlationId: null,
      payload: { [IMG_MARKUP]: SCRIPT_MARKUP },
      payloadSha256: "0".repeat(64),
      sealed: false,
      ts: new Date().toISOString(),
      loggedBy: IMG_MARKUP,
      loggedAt: new Date().toISOString(),
    };
    await withAuditView(async ({ page }) => {
      // Names, topics and ids with markup are refused by the relay, so this one is added to its answer in the browser.
      await page.route(
        (url) => url.origin === testRelay!.url && url.pathname === "/audit",
        async (route: Route) => {
          const response = await route.fetch();
          const page = (await response.json()) as { entries: AuditEntry[] };
          await route.fulfill({ response, json: { ...page, entries: [fake, ...page.entries] } });
        },
      );
      await useSecretKey(page, operator.secretKey);
      await filterTopic(page, topic);
      await entryNode(page, plain.messageId).waitFor({ timeout: WAIT_MS });
      expect(await entryNode(page, plain.messageId).locator(".audit-payload").textContent()).toBe(SCRIPT_MARKUP);
      await page.locator(`#audit-entries li[data-message-id="${opened.messageId}"][data-state="opened"]`).waitFor({ timeout: WAIT_MS });
      expect(await entryNode(page, opened.messageId).locator(".audit-payload").textContent()).toBe(JSON.stringify({ text: IMG_MARKUP }, null, 2));

      // The filtered answer (with the forged entry first) may replace a list the view showed before the route was set.
      const forged = page.locator("#audit-entries li.audit-entry").first();
      await expect.poll(() => forged.getAttribute("data-message-id"), { timeout: WAIT_MS }).toBe(IMG_MARKUP);
      expect(await forged.locator(".from").textContent()).toBe(IMG_MARKUP);
      expect(await forged.locator(".to").textContent()).toBe(`${IMG_MARKUP}, ${SCRIPT_MARKUP}`);
      expect(await forged.locator(".topic").textContent()).toBe(`#${IMG_MARKUP}`);
      expect(await forged.locator(".message-id").textContent()).toBe(IMG_MARKUP);
      expect(await forged.locator(".audit-payload").textContent()).toContain(SCRIPT_MARKUP);
      expect(await page.locator("#audit-view img, #audit-view script, #audit-view b, body img").count()).toBe(0);
    });
  });

  it("applying a filter drops the list shown (and its 'older entries') until the filtered answer arrives", async () => {
    const topic = `held.${uniqueName("t", 3)}`;
    const mine = await logPlain(alice, bob.name, topic, "the filtered entry");
    await Promise.all(Array.from({ length: 51 }, (_, i) => logPlain(bob, alice.name, `other.${uniqueName("t", 3)}`, `filler ${i}`)));
    await withAuditView(async ({ page }) => {
      const rows = page.locator("#audit-entries li.audit-entry");
      // The unfiltered list: a full page with its "older entries".
      await page.locator("#audit-more").waitFor({ state: "visible", timeout: WAIT_MS });
      // Hold the filtered answer until the page was looked at.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let asked!: () => void;
      const requested = new Promise<void>((resolve) => (asked = resolve));
      await page.route(/\/audit\?.*topic=/, async (route) => {
        asked();
        await held;
        await route.continue();
      });
      await filterTopic(page, topic);
      await requested;
      expect(await rows.count()).toBe(0);
      expect(await page.locator("#audit-more").isHidden()).toBe(true);
      expect(await page.locator("#audit-entries").textContent()).toContain("loading");
      release();
      await entryNode(page, mine.messageId).waitFor({ timeout: WAIT_MS });
      expect(await rows.count()).toBe(1);
      expect(await page.locator("#audit-more").isHidden()).toBe(true);
    });
  });

  it("filters by sender and pages by cursor: 'older entries' brings the rest, each entry once", async () => {
    const topic = `paging.${uniqueName("t", 3)}`;
    const posted = await Promise.all(Array.from({ length: 57 }, (_, i) => logPlain(i % 3 === 0 ? bob : alice, alice.name, topic, `entry ${i}`)));
    await logPlain(alice, bob.name, `other.${uniqueName("t", 3)}`, "not on this topic");
    await withAuditView(async ({ page }) => {
      await filterTopic(page, topic);
      const rows = page.locator("#audit-entries li.audit-entry");
      // Until the filtered answer arrives the unfiltered list (other tests' entries, also over a
      // page, with its own "older entries") is still shown: wait for a page of this topic only.
      const onTopic = async () => {
        const topics = await rows.locator(".topic").allTextContents();
        return topics.length > 0 && topics.every((shown) => shown === `#${topic}`) ? topics.length : 0;
      };
      await expect.poll(onTopic, { timeout: WAIT_MS }).toBe(50);
      await page.locator("#audit-more").waitFor({ state: "visible", timeout: WAIT_MS });
      await page.click("#audit-more");
      await page.locator("#audit-more").waitFor({ state: "hidden", timeout: WAIT_MS });
      const shown = await rows.evaluateAll((items) => items.map((li) => li.getAttribute("data-message-id")));
      expect(shown).toHaveLength(57);
      expect(new Set(shown)).toEqual(new Set(posted.map((e) => e.messageId)));
      // Newest first (entries of two audit shards may share a millisecond; their order within it is the relay's).
      const loggedAt = new Map(posted.map((e) => [e.messageId, Date.parse(e.loggedAt)]));
      const times = shown.map((id) => loggedAt.get(id!)!);
      expect(times).toEqual([...times].sort((a, b) => b - a));

      await page.fill("#audit-from", bob.name);
      await page.click("#audit-apply");
      const fromBob = posted.filter((e) => e.from === bob.name).length;
      await expect.poll(() => rows.count(), { timeout: WAIT_MS }).toBe(fromBob);
      expect(await page.locator("#audit-entries .from").allTextContents()).toEqual(Array(fromBob).fill(bob.name));
    });
  });
});
