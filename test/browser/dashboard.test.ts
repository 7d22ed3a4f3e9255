// The monitoring dashboard (SPEC §7) in a real browser against a real relay: a `wrangler dev`
// (scripts/local-relay.ts) serves /dashboard, and Debian's Chromium, driven by playwright-core,
// signs in and watches the panels update. Nothing of the relay is mocked; only the tests that
// check rendering of markup in names and topics (which the relay itself refuses) rewrite relay
// responses inside the browser with page.route.

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { basename, extname, join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page, type Request as PwRequest, type Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-relay.js";
import {
  randomAdminKey,
  registerAgent,
  relayCaller,
  scriptReceiver,
  startTestRelay,
  uniqueName,
  type RegisteredAgent,
  type TestRelay,
} from "../support/node-relay.js";
import { startReceiver, type Receiver } from "../support/receiver.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
const RELAY_VARS = { RATE_LIMIT_PER_MIN: "100000", FEED_FLUSH_MS: "200" };
/** The dashboard refreshes its panels every 10 s; allow two rounds and a slow machine. */
const PANEL_WAIT_MS = 25_000;
const REQUEST_TIMEOUT_MS = 10_000;
const ARTIFACTS = join(PROJECT_ROOT, "test-results");

/** Markup the relay accepts where free text is allowed (owner, capabilities, payloads). */
const IMG_MARKUP = "<img src=x onerror=alert(1)>";
const SCRIPT_MARKUP = "<script>alert(1)</script><img src=x onerror=alert(2)>";

let testRelay: TestRelay | undefined;
let browser: Browser | undefined;
let receiver: Receiver | undefined;
let staticServer: Server | undefined;
let staticUrl = "";
const adminKey = randomAdminKey();

// ---------------------------------------------------------------------------------------------
// Relay helpers (Node side, plain HTTP)

type Agent = RegisteredAgent;

const call = relayCaller(() => testRelay!.url, { timeoutMs: REQUEST_TIMEOUT_MS });

function register(prefix: string, fields: Record<string, unknown> = {}): Promise<Agent> {
  return registerAgent(testRelay!, uniqueName(prefix, 4), fields, { timeoutMs: REQUEST_TIMEOUT_MS });
}

async function send(from: Agent, body: Record<string, unknown>): Promise<string> {
  const reply = await call<{ id: string }>("POST", "/messages", from.apiKey, body);
  if (reply.status !== 201) throw new Error(`send from ${from.name}: ${reply.status} ${reply.text}`);
  return reply.body.id;
}

function sendText(from: Agent, to: Agent, payload: string, topic?: string): Promise<string> {
  return send(from, { to: to.name, type: "notification", encrypted: false, payload, ...(topic ? { topic } : {}) });
}

/** An encrypted-looking message: the relay stores ciphertext it cannot read, so random bytes do. */
function sendSealed(from: Agent, to: Agent, topic: string): Promise<string> {
  return send(from, {
    to: to.name,
    type: "request",
    topic,
    encrypted: true,
    payload: randomBytes(64).toString("base64"),
    nonce: randomBytes(24).toString("base64"),
  });
}

const keyBase64 = () => randomBytes(32).toString("base64");


// ---------------------------------------------------------------------------------------------
// Browser helpers

interface Dashboard {
  context: BrowserContext;
  page: Page;
  /** alert/confirm/prompt dialogs that opened (there must be none). */
  dialogs: string[];
  /** Console lines reporting a Content-Security-Policy violation (there must be none). */
  cspViolations: string[];
  pageErrors: string[];
}

async function openDashboard(viewport = { width: 1280, height: 800 }): Promise<Dashboard> {
  const context = await browser!.newContext({ viewport });
  const page = await context.newPage();
  const view: Dashboard = { context, page, dialogs: [], cspViolations: [], pageErrors: [] };
  page.on("dialog", (dialog) => {
    view.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) view.cspViolations.push(message.text());
  });
  page.on("pageerror", (error) => view.pageErrors.push(error.message));
  return view;
}

/**
 * Runs `body` on a fresh page (own context: own sessionStorage and localStorage). Every page must
 * end its test without a CSP violation, a dialog or an uncaught error.
 */
async function withDashboard(viewport: { width: number; height: number } | undefined, body: (view: Dashboard) => Promise<void>) {
  const view = await openDashboard(viewport);
  try {
    await body(view);
  } finally {
    await view.context.close().catch(() => undefined);
  }
  expect(view.cspViolations).toEqual([]);
  expect(view.dialogs).toEqual([]);
  expect(view.pageErrors).toEqual([]);
}

/** Opens /dashboard, checks the relay URL field defaults to the relay, and submits the key. */
async function signIn(page: Page, key = adminKey): Promise<void> {
  await page.goto(`${testRelay!.url}/dashboard`);
  await page.locator("#login-form").waitFor();
  expect(await page.inputValue("#relay-url")).toBe(testRelay!.url);
  await page.fill("#admin-key", key);
  await page.click("#login-submit");
}

async function signInAndWait(page: Page): Promise<void> {
  await signIn(page);
  await page.locator("#dashboard-view").waitFor({ state: "visible" });
}

const AGENT_ROWS = "#agents-body tr.agent-row";

function agentRow(page: Page, name: string) {
  return page.locator(AGENT_ROWS).filter({ has: page.locator(".agent-name", { hasText: name }) });
}

function feedItem(page: Page, id: string) {
  return page.locator(`#feed li.feed-item[data-id="${id}"]`);
}

/** Elements a successful injection would have created inside the panels. */
async function injectedElements(page: Page): Promise<number> {
  return page.locator("#dashboard-view img, #dashboard-view script, #dashboard-view iframe, body img").count();
}

function isFeedRequest(request: PwRequest): boolean {
  const url = new URL(request.url());
  return url.origin === testRelay!.url && url.pathname === "/messages";
}

/** Pretends the tab is hidden or visible again, as the browser does when the user switches tabs. */
async function setVisibility(page: Page, state: "hidden" | "visible"): Promise<void> {
  await page.evaluate((value) => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => value });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => value === "hidden" });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);
}

async function noHorizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

/**
 * The dashboard's files from another origin, as `npx serve dashboard` would serve them (at the
 * root, no CSP), so the page must reach the relay across origins (CORS).
 */
async function serveDashboardFiles(): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://static").pathname;
    const file = path === "/" ? "index.html" : basename(path);
    const full = join(PROJECT_ROOT, "dashboard", file);
    if (path.split("/").length !== 2 || !existsSync(full) || !types[extname(file)]) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    response.writeHead(200, { "Content-Type": `${types[extname(file)]}; charset=utf-8` }).end(readFileSync(full));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("static server did not bind");
  return { server, url: `http://127.0.0.1:${address.port}` };
}

// ---------------------------------------------------------------------------------------------
// Seed data shared by the tests (names are unique, so tests never assert global counts)

let alice: Agent;
let bob: Agent;
let hookOk: Agent;
let hookFail: Agent;
let seedTopic: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error("Chromium missing: run apt-get install -y chromium");
  receiver = await startReceiver();
  testRelay = await startTestRelay({ prefix: "clawtalk-dashboard-", adminKey, vars: RELAY_VARS });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  ({ server: staticServer, url: staticUrl } = await serveDashboardFiles());

  alice = await register("alice", { owner: "ops team", capabilities: ["search", "summarize"], publicKey: keyBase64(), signingKey: keyBase64() });
  bob = await register("bob", { owner: "research", capabilities: ["translate"] });
  hookOk = await register("hook_ok", { webhookUrl: receiver.url("dashboard-ok") });
  hookFail = await register("hook_fail", { webhookUrl: receiver.url("dashboard-fail") });
  await scriptReceiver(receiver, "dashboard-fail", { status: 500 });
  seedTopic = `ops.status-${randomBytes(3).toString("hex")}`;
  await sendText(alice, bob, "deploy finished: 3 services restarted", seedTopic);
  await sendSealed(bob, alice, seedTopic);
  await sendText(alice, hookOk, "ping for the webhook", "hooks");
  await sendText(alice, hookFail, "this webhook answers 500", "hooks");
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  staticServer?.close();
  await browser?.close();
  await testRelay?.cleanup();
  await receiver?.close();
});

// ---------------------------------------------------------------------------------------------

describe("dashboard (SPEC §7)", () => {
  describe("serving", () => {
    it("the page and its files are served with a strict Content-Security-Policy without 'unsafe-inline'", async () => {
      for (const path of ["/dashboard", "/dashboard/", "/dashboard/app.js", "/dashboard/style.css"]) {
        const response = await fetch(`${testRelay!.url}${path}`);
        expect(response.status, path).toBe(200);
        const csp = response.headers.get("content-security-policy") ?? "";
        expect(csp, path).toContain("default-src 'none'");
        expect(csp, path).toContain("script-src 'self'");
        expect(csp, path).toContain("style-src 'self'");
        expect(csp, path).not.toContain("unsafe-inline");
        expect(csp, path).not.toContain("unsafe-eval");
        await response.arrayBuffer();
      }
      const script = await fetch(`${testRelay!.url}/dashboard/app.js`);
      expect(script.headers.get("content-type")).toMatch(/javascript/);
      await script.arrayBuffer();
    });

    it("every file of dashboard/ is served, byte for byte, with its content type; other paths under /dashboard/ are 404", async () => {
      const types: Record<string, RegExp> = { ".html": /^text\/html/, ".css": /^text\/css/, ".js": /^text\/javascript/ };
      for (const file of readdirSync(join(PROJECT_ROOT, "dashboard"))) {
        const response = await fetch(`${testRelay!.url}/dashboard/${file}`);
        expect(response.status, file).toBe(200);
        expect(response.headers.get("content-type"), file).toMatch(types[extname(file)]!);
        expect(await response.text(), file).toBe(readFileSync(join(PROJECT_ROOT, "dashboard", file), "utf8"));
      }
      for (const path of ["/dashboard/nope.js", "/dashboard/../wrangler.toml", "/dashboard/__proto__"]) {
        const response = await fetch(`${testRelay!.url}${path}`);
        expect(response.status, path).toBe(404);
        await response.arrayBuffer();
      }
    });

    it("the page has no inline script, inline style or inline event handler", async () => {
      const html = await (await fetch(`${testRelay!.url}/dashboard`)).text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(html).not.toMatch(/<style[\s>]/i);
      expect(html).not.toMatch(/\sstyle\s*=/i);
      expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    });
  });

  describe("signing in", () => {
    it.each([
      { what: "a wrong admin key", key: () => "not-the-admin-key", message: /Admin key refused \(401\)/ },
      // An agent key is no credential for the admin routes the page signs in with: 401 (SPEC §9).
      { what: "an agent's key", key: () => alice.apiKey, message: /Admin key refused \(401\)/ },
    ])("$what shows a clear error and keeps the login form", async ({ key, message }) => {
      await withDashboard(undefined, async ({ page }) => {
        const navigation = await page.goto(`${testRelay!.url}/dashboard`);
        expect(navigation?.headers()["content-security-policy"]).toContain("script-src 'self'");
        await signIn(page, key());
        const error = page.locator("#login-error");
        await error.waitFor({ state: "visible" });
        expect(await error.textContent()).toMatch(message);
        expect(await page.locator("#login-form").isVisible()).toBe(true);
        expect(await page.locator("#dashboard-view").isVisible()).toBe(false);
        expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
      });
    });

    it("the admin key signs in: registered agents are listed, the key is in sessionStorage only and never in a URL", async () => {
      await withDashboard(undefined, async ({ page }) => {
        const urls: string[] = [];
        page.on("request", (request) => urls.push(request.url()));
        await signInAndWait(page);
        for (const agent of [alice, bob, hookOk, hookFail]) await agentRow(page, agent.name).waitFor();
        // alice's record: owner and capabilities shown
        const aliceRow = agentRow(page, alice.name);
        expect(await aliceRow.locator(".owner").textContent()).toBe("ops team");
        expect(await aliceRow.locator(".tag.cap").allTextContents()).toEqual(["search", "summarize"]);
        expect(await aliceRow.locator(".tag.e2e").count()).toBe(1);
        expect(await agentRow(page, bob.name).locator(".tag.e2e").count()).toBe(0);

        const storage = await page.evaluate(() => ({
          session: Object.values(sessionStorage),
          local: Object.values(localStorage),
        }));
        expect(storage.session).toContain(adminKey);
        expect(storage.local).not.toContain(adminKey);
        expect(storage.local).toContain(testRelay!.url);
        expect(page.url()).not.toContain(adminKey);
        expect(urls.length).toBeGreaterThan(0);
        for (const url of urls) expect(url).not.toContain(adminKey);
        expect(await page.locator("#admin-key").inputValue()).toBe("");
      });
    });

    it("the same files work from another origin (as with `npx serve dashboard`) against the relay URL typed in", async () => {
      await withDashboard(undefined, async ({ page }) => {
        await page.goto(`${staticUrl}/`);
        await page.locator("#login-form").waitFor();
        expect(await page.inputValue("#relay-url")).toBe("http://127.0.0.1:8787");
        await page.fill("#relay-url", `${testRelay!.url}/`);
        await page.fill("#admin-key", adminKey);
        await page.click("#login-submit");
        await page.locator("#dashboard-view").waitFor({ state: "visible" });
        await agentRow(page, alice.name).waitFor({ timeout: PANEL_WAIT_MS });
        await page.locator("#feed li.feed-item").first().waitFor({ timeout: PANEL_WAIT_MS });
        expect(await page.locator("#session-relay").textContent()).toBe(testRelay!.url);
        expect(await page.evaluate(() => Object.values(localStorage))).toContain(testRelay!.url);
      });
    });

    it("a reload keeps the session; logout clears sessionStorage and returns to the login form", async () => {
      await withDashboard(undefined, async ({ page }) => {
        await signInAndWait(page);
        await page.reload();
        await page.locator("#dashboard-view").waitFor({ state: "visible" });
        await agentRow(page, alice.name).waitFor();
        await page.click("#logout");
        await page.locator("#login-form").waitFor({ state: "visible" });
        expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
        expect(await page.locator("#dashboard-view").isVisible()).toBe(false);
        expect(await page.locator(AGENT_ROWS).count()).toBe(0);
        // the relay URL is still remembered for the next sign-in
        expect(await page.inputValue("#relay-url")).toBe(testRelay!.url);
      });
    });

    it("a key refused mid-session (the admin key was changed) returns to the login form with the error", async () => {
      await withDashboard(undefined, async ({ page }) => {
        await signInAndWait(page);
        await agentRow(page, alice.name).waitFor();
        // From now on the relay refuses the key, as it would after ADMIN_KEY was rotated.
        await page.route(
          (url) => url.origin === testRelay!.url && !url.pathname.startsWith("/dashboard"),
          (route: Route) => route.fulfill({ status: 401, json: { error: "Missing or invalid API key.", code: "UNAUTHORIZED" } }),
        );
        await page.locator("#login-form").waitFor({ state: "visible", timeout: PANEL_WAIT_MS });
        expect(await page.locator("#login-error").textContent()).toMatch(/Admin key refused \(401\)/);
        expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
      });
    });
  });

  describe("live updates", () => {
    it("an agent registered and messages sent during the session appear without a reload", async () => {
      await withDashboard(undefined, async ({ page }) => {
        let navigations = 0;
        page.on("framenavigated", (frame) => {
          if (frame === page.mainFrame()) navigations++;
        });
        await signInAndWait(page);
        await agentRow(page, alice.name).waitFor();
        const loadedNavigations = navigations;

        const carol = await register("carol", { owner: "late joiner" });
        const topic = `live.check-${randomBytes(3).toString("hex")}`;
        const preview = `hello from the live test ${randomBytes(3).toString("hex")}`;
        const plainId = await sendText(carol, alice, preview, topic);
        const sealedId = await sendSealed(alice, carol, topic);

        // the feed long-polls: both messages appear with from, to and topic
        const plain = feedItem(page, plainId);
        await plain.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await plain.locator(".from").textContent()).toBe(carol.name);
        expect(await plain.locator(".to").textContent()).toBe(alice.name);
        expect(await plain.locator(".topic").textContent()).toBe(`#${topic}`);
        expect(await plain.locator(".preview").textContent()).toBe(preview);
        expect(await plain.locator("svg.lock").count()).toBe(0);

        const sealed = feedItem(page, sealedId);
        await sealed.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await sealed.locator(".from").textContent()).toBe(alice.name);
        expect(await sealed.locator(".to").textContent()).toBe(carol.name);
        expect(await sealed.locator(".topic").textContent()).toBe(`#${topic}`);
        expect(await sealed.locator("svg.lock").count()).toBe(1);
        expect(await sealed.locator(".preview").count()).toBe(0);

        // newest on top: the encrypted message was stored last
        const ids = await page.locator("#feed li.feed-item").evaluateAll((items) => items.map((li) => li.getAttribute("data-id")));
        expect(ids.indexOf(sealedId)).toBeLessThan(ids.indexOf(plainId));

        // the periodic refresh brings the new agent and the new channel with its count
        await agentRow(page, carol.name).waitFor({ timeout: PANEL_WAIT_MS });
        const channel = page.locator("#channels-body tr.channel-row").filter({ has: page.locator(".topic", { hasText: `#${topic}` }) });
        await channel.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await channel.locator(".num").textContent()).toBe("2");
        // The feed's title says how far behind it may be (FEED_FLUSH_MS while the relay is quiet).
        await expect.poll(() => page.locator("#feed-count").textContent(), { timeout: PANEL_WAIT_MS }).toMatch(/shown · up to 0\.2 s behind$/);

        expect(navigations).toBe(loadedNavigations);
        expect(await page.locator("#status-text").textContent()).toMatch(/live/);
      });
    });

    it("webhook attempts and webhook health are shown, and the charts plot the last hour", async () => {
      await withDashboard(undefined, async ({ page }) => {
        await signInAndWait(page);
        const attempts = page.locator("#webhooks li.attempt-row");
        const okAttempt = attempts.filter({ hasText: hookOk.name }).first();
        const failedAttempt = attempts.filter({ hasText: hookFail.name }).first();
        await okAttempt.waitFor({ timeout: PANEL_WAIT_MS });
        await failedAttempt.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await okAttempt.locator(".http-status").textContent()).toBe("200");
        expect(await okAttempt.locator(".outcome").textContent()).toBe("delivered");
        expect(await okAttempt.locator(".latency").textContent()).toMatch(/^\d+(\.\d+)? m?s$/);
        expect(await okAttempt.locator(".ts").textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
        expect(await failedAttempt.locator(".http-status").textContent()).toBe("500");
        expect(await failedAttempt.locator(".outcome").textContent()).toMatch(/^(retrying|failed)/);

        await vi.waitFor(async () => expect(await agentRow(page, hookOk.name).locator(".health").textContent(), "hook_ok health").toBe("ok"), { timeout: PANEL_WAIT_MS, interval: 150 });
        expect(await agentRow(page, hookFail.name).locator(".health").textContent()).toMatch(/^failing \(\d+\)$/);
        expect(await agentRow(page, bob.name).locator(".health").textContent()).toBe("none");
        // presence: alice has sent messages (seen), hook_ok has only received them (never seen)
        await vi.waitFor(async () => expect(await agentRow(page, alice.name).locator(".dot").getAttribute("class"), "alice's dot").toContain("online"), { timeout: PANEL_WAIT_MS, interval: 150 });
        expect(await agentRow(page, alice.name).locator(".last-seen").textContent()).toMatch(/^(now|\d+s ago)$/);
        expect(await agentRow(page, hookOk.name).locator(".dot").getAttribute("class")).toContain("offline");
        expect(await agentRow(page, hookOk.name).locator(".last-seen").textContent()).toBe("never");

        // charts: inline SVG, at least one bar for this minute's messages, latency lines from deliveries
        await page.locator("#chart-throughput svg rect.bar").first().waitFor({ timeout: PANEL_WAIT_MS });
        const bars = await page.locator("#chart-throughput svg rect.bar").evaluateAll((rects) =>
          rects.map((r) => Number(r.getAttribute("data-value"))),
        );
        expect(bars.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
        // (a line of one minute is a single point, drawn as a dot on the path)
        await page.locator("#chart-latency svg circle.point.p50").first().waitFor({ timeout: PANEL_WAIT_MS });
        expect(await page.locator("#chart-latency svg path.line.p50").count()).toBe(1);
        expect(await page.locator("#chart-latency svg path.line.p95").count()).toBe(1);
        expect(await page.locator("#chart-latency svg circle.point.p95").count()).toBeGreaterThanOrEqual(1);
      });
    });

    it("while the tab is hidden no feed request is in flight; when it is visible again the feed catches up", async () => {
      await withDashboard(undefined, async ({ page }) => {
        const inFlight = new Set<PwRequest>();
        let startedWhileHidden = 0;
        let hidden = false;
        page.on("request", (request) => {
          if (!isFeedRequest(request)) return;
          inFlight.add(request);
          if (hidden) startedWhileHidden++;
        });
        page.on("requestfinished", (request) => inFlight.delete(request));
        page.on("requestfailed", (request) => inFlight.delete(request));

        await signInAndWait(page);
        await vi.waitFor(() => expect([...inFlight].some((r) => r.url().includes("wait=")), "a long-poll in flight").toBe(true), { timeout: PANEL_WAIT_MS, interval: 150 });

        hidden = true;
        await setVisibility(page, "hidden");
        await vi.waitFor(() => expect(inFlight.size, "feed requests in flight").toBe(0), { timeout: 5_000, interval: 150 });
        expect(await page.locator("#status-text").textContent()).toMatch(/paused/);

        // A message stored while hidden reaches the relay's feed, but the page does not ask for it.
        const preview = `sent while hidden ${randomBytes(3).toString("hex")}`;
        const id = await sendText(bob, alice, preview);
        await vi.waitFor(
          async () => {
            const feed = await call<{ messages: { id: string }[] }>("GET", "/messages?limit=50", adminKey);
            expect(feed.body.messages.map((m) => m.id), "the relay's feed").toContain(id);
          },
          { timeout: PANEL_WAIT_MS, interval: 150 },
        );
        expect(startedWhileHidden).toBe(0);
        expect(inFlight.size).toBe(0);
        expect(await feedItem(page, id).count()).toBe(0);

        hidden = false;
        await setVisibility(page, "visible");
        await feedItem(page, id).waitFor({ timeout: PANEL_WAIT_MS });
        expect(await feedItem(page, id).locator(".preview").textContent()).toBe(preview);
        await vi.waitFor(() => expect([...inFlight].some((r) => r.url().includes("wait=")), "the long-poll resumed").toBe(true), { timeout: PANEL_WAIT_MS, interval: 150 });
      });
    });
  });

  describe("the feed and the charts read right", () => {
    it("a broadcast shows as `from → broadcast (recipient)` on each recipient's line; a direct message as `from → to`", async () => {
      const caster = await register("caster");
      const topic = `all.hands-${randomBytes(3).toString("hex")}`;
      const broadcastId = await send(caster, { to: "broadcast", type: "notification", encrypted: false, payload: "to everyone", topic });
      const directId = await sendText(caster, bob, "to bob alone", topic);
      // The relay's feed marks every copy of the broadcast, and only those.
      const items = await vi.waitFor(
        async () => {
          const feed = await call<{ messages: { id: string; to: string; broadcast?: boolean }[] }>("GET", `/messages?topic=${topic}&limit=100`, adminKey);
          const got = feed.body.messages;
          expect(got.some((m) => m.id === broadcastId && m.to === bob.name) && got.some((m) => m.id === directId), "the broadcast and the direct message in the relay's feed").toBe(true);
          return got;
        },
        { timeout: PANEL_WAIT_MS, interval: 150 },
      );
      expect(items.filter((m) => m.id === broadcastId).every((m) => m.broadcast === true)).toBe(true);
      expect(items.find((m) => m.id === directId)).not.toHaveProperty("broadcast");

      await withDashboard(undefined, async ({ page }) => {
        await signInAndWait(page);
        const copy = feedItem(page, broadcastId).filter({ has: page.locator(".to", { hasText: bob.name }) });
        await copy.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await copy.locator(".from").textContent()).toBe(caster.name);
        expect(await copy.locator(".broadcast-to").textContent()).toBe(`broadcast (${bob.name})`);
        expect(await copy.locator(".to").textContent()).toBe(bob.name);
        // one line per recipient: alice got her copy too
        await feedItem(page, broadcastId).filter({ has: page.locator(".to", { hasText: alice.name }) }).waitFor({ timeout: PANEL_WAIT_MS });

        const direct = feedItem(page, directId);
        await direct.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await direct.locator(".to").textContent()).toBe(bob.name);
        expect(await direct.locator(".broadcast").count()).toBe(0);
      });
    });

    it("sparse latency reads: a bar per minute with deliveries at its place in the hour, lines only between neighbours, a time axis across the window", async () => {
      const measured: Record<number, { p50: number; p95: number }> = { 10: { p50: 2, p95: 20 }, 40: { p50: 5, p95: 5 }, 41: { p50: 10, p95: 50 } };
      let minutesInHour = 0;
      await withDashboard({ width: 1280, height: 800 }, async ({ page }) => {
        // The relay's real stats, with the hour's latency replaced by three measured minutes.
        await page.route(
          (url) => url.origin === testRelay!.url && url.pathname === "/admin/stats",
          async (route: Route) => {
            const response = await route.fetch();
            const stats = (await response.json()) as { perMinute: { minute: string }[] };
            minutesInHour = stats.perMinute.length;
            const perMinute = stats.perMinute.map((m, i) => ({
              ...m,
              delivered: measured[i] ? 3 : 0,
              latencyP50Ms: measured[i]?.p50 ?? null,
              latencyP95Ms: measured[i]?.p95 ?? null,
            }));
            await route.fulfill({ response, json: { ...stats, perMinute } });
          },
        );
        await signInAndWait(page);
        const ranges = page.locator("#chart-latency svg rect.range");
        await ranges.nth(2).waitFor({ timeout: PANEL_WAIT_MS });
        const chart = await page.evaluate(() => {
          const root = document.querySelector("#chart-latency svg")!;
          const axis = root.querySelector("line.axis:not(.tick)")!;
          const number = (el: Element, name: string) => Number(el.getAttribute(name));
          return {
            minutes: root.querySelectorAll("rect.range").length,
            axis: { from: number(axis, "x1"), to: number(axis, "x2") },
            ranges: Array.from(root.querySelectorAll("rect.range")).map((r) => ({ x: number(r, "x"), width: number(r, "width"), height: number(r, "height"), minute: r.getAttribute("data-minute") })),
            p50Path: root.querySelector("path.line.p50")?.getAttribute("d") ?? "",
            labels: Array.from(root.querySelectorAll("text.axis-label.time")).map((t) => number(t, "x")),
          };
        });
        expect(chart.minutes).toBe(3);
        const plot = chart.axis.to - chart.axis.from;
        const centres = chart.ranges.map((r) => (r.x + r.width / 2 - chart.axis.from) / plot);
        // Each bar stands at its minute's place in the hour, not squeezed to an edge.
        expect(minutesInHour).toBeGreaterThan(41);
        for (const [n, i] of [10, 40, 41].entries()) expect(Math.abs(centres[n]! - (i + 0.5) / minutesInHour)).toBeLessThan(0.01);
        for (const range of chart.ranges) {
          expect(range.width).toBeGreaterThanOrEqual(5);
          expect(range.height).toBeGreaterThanOrEqual(5);
        }
        // Minute 10 stands alone; 40 and 41 are joined: two pen-downs, one line segment.
        expect(chart.p50Path.match(/M/g)).toHaveLength(2);
        expect(chart.p50Path.match(/L/g)).toHaveLength(1);
        // The axis is labelled from the start of the window to its end.
        expect(chart.labels.length).toBeGreaterThanOrEqual(3);
        expect(Math.min(...chart.labels) - chart.axis.from).toBeLessThan(plot * 0.05);
        expect(chart.axis.to - Math.max(...chart.labels)).toBeLessThan(plot * 0.05);
        // The legend gives the newest measured minute in words.
        expect(await page.locator("#latency-total").textContent()).toMatch(/latest \d\d:\d\d: p50 10 ms, p95 50 ms/);
      });
    });

    it("a webhook log longer than its panel scrolls, its scrollbar in a colour one can see and a fade over the rows below; scrolled to the end, its last row shows in full", async () => {
      const now = Date.now();
      const attempts = Array.from({ length: 30 }, (_, i) => ({
        at: new Date(now - i * 1000).toISOString(),
        agent: hookFail.name,
        messageId: `fake-${i}`,
        webhookId: `fake-${i}.${hookFail.name}`,
        attempt: 1,
        status: 500,
        latencyMs: 3,
        error: "HTTP 500",
        outcome: "retrying",
      }));
      await withDashboard({ width: 1280, height: 800 }, async ({ page }) => {
        await page.route(
          (url) => url.origin === testRelay!.url && url.pathname === "/webhooks/deliveries",
          (route: Route) => route.fulfill({ status: 200, json: attempts }),
        );
        await signInAndWait(page);
        await page.locator("#webhooks li.attempt-row").nth(29).waitFor({ state: "attached", timeout: PANEL_WAIT_MS });
        const atTop = await page.evaluate(() => {
          const log = document.querySelector("#webhooks") as HTMLElement;
          const fade = getComputedStyle(log, "::after");
          const style = getComputedStyle(log);
          return {
            scrollable: log.scrollHeight > log.clientHeight,
            scrollbar: { width: style.scrollbarWidth, colour: style.scrollbarColor },
            fade: { position: fade.position, image: fade.backgroundImage, height: parseFloat(fade.height) },
          };
        });
        expect(atTop.scrollable).toBe(true);
        // Headless Chromium draws overlay scrollbars, so the style is what can be checked: a thumb in
        // the dim green (--green-dim), not the panel-border colour it had, which was near invisible.
        expect(atTop.scrollbar).toEqual({ width: "thin", colour: "rgb(79, 138, 99) rgba(0, 0, 0, 0)" });
        expect(atTop.fade.position).toBe("sticky");
        expect(atTop.fade.image).toContain("gradient");
        const atEnd = await page.evaluate(() => {
          const log = document.querySelector("#webhooks") as HTMLElement;
          log.scrollTop = log.scrollHeight;
          const box = log.getBoundingClientRect();
          const last = Array.from(log.querySelectorAll("li.attempt-row")).at(-1)!.getBoundingClientRect();
          const panel = log.closest(".panel")!.getBoundingClientRect();
          return { logTop: box.top, logBottom: box.bottom, panelBottom: panel.bottom, lastTop: last.top, lastBottom: last.bottom };
        });
        // The whole last row is inside the list's visible area and clear of the fade below it.
        expect(atEnd.lastTop).toBeGreaterThanOrEqual(atEnd.logTop);
        expect(atEnd.lastBottom).toBeLessThanOrEqual(atEnd.logBottom - atTop.fade.height + 0.5);
        expect(atEnd.logBottom).toBeLessThanOrEqual(atEnd.panelBottom);
      });
    });
  });

  describe("relay data is rendered as text", () => {
    it("the relay itself refuses an agent name with markup", async () => {
      const reply = await call<{ code: string }>("POST", "/agents", adminKey, { name: IMG_MARKUP });
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe("BAD_REQUEST");
    });

    it("markup in an owner, capabilities and a plaintext payload shows as literal text", async () => {
      const marked = await register("marked", { owner: IMG_MARKUP, capabilities: [SCRIPT_MARKUP, "<b>bold</b>"] });
      await withDashboard(undefined, async ({ page }) => {
        await signInAndWait(page);
        const id = await sendText(marked, alice, SCRIPT_MARKUP);

        const row = agentRow(page, marked.name);
        await row.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await row.locator(".owner").textContent()).toBe(IMG_MARKUP);
        expect(await row.locator(".tag.cap").allTextContents()).toEqual([SCRIPT_MARKUP, "<b>bold</b>"]);
        expect(await row.locator(".owner").isVisible()).toBe(true);

        const item = feedItem(page, id);
        await item.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await item.locator(".preview").textContent()).toBe(SCRIPT_MARKUP);
        expect(await item.locator(".preview").isVisible()).toBe(true);

        expect(await injectedElements(page)).toBe(0);
        expect(await page.locator("#dashboard-view b").count()).toBe(0);
      });
    });

    it("markup in agent names and topics (relay responses rewritten in the browser) shows as literal text", async () => {
      const now = new Date().toISOString();
      const fakeAgent = {
        name: IMG_MARKUP,
        owner: null,
        capabilities: [],
        publicKey: null,
        signingKey: null,
        online: true,
        lastSeen: now,
        webhook: true,
      };
      const fakeItem = {
        id: "fake-markup-item",
        from: IMG_MARKUP,
        to: IMG_MARKUP,
        ts: now,
        type: "notification",
        topic: IMG_MARKUP,
        encrypted: false,
        bytes: 42,
        preview: SCRIPT_MARKUP,
      };
      const fakeAttempt = {
        at: now,
        agent: IMG_MARKUP,
        messageId: "fake-markup-item",
        webhookId: "msg_fake",
        attempt: 2,
        status: 502,
        latencyMs: 12,
        error: SCRIPT_MARKUP,
        outcome: "retrying",
      };
      const fakeHealth = { agent: IMG_MARKUP, lastAt: now, lastOutcome: "retrying", lastStatus: 502, failuresInRow: 3 };

      await withDashboard(undefined, async ({ page }) => {
        const rewrite = (path: string, change: (body: any) => unknown, when: (url: URL) => boolean = () => true) =>
          page.route(
            (url) => url.origin === testRelay!.url && url.pathname === path && when(url),
            async (route: Route) => {
              const response = await route.fetch();
              await route.fulfill({ response, json: change(await response.json()) });
            },
          );
        await rewrite("/agents", (agents: unknown[]) => [...agents, fakeAgent]);
        // The first feed page and the periodic newest-page reads; long-polls pass through untouched.
        await rewrite("/messages", (page: { messages: unknown[] }) => ({ ...page, messages: [fakeItem, ...page.messages] }), (url) => !url.searchParams.has("wait"));
        await rewrite("/channels", (channels: unknown[]) => [{ topic: IMG_MARKUP, count: 7, lastTs: now }, ...channels]);
        await rewrite("/webhooks/deliveries", (attempts: unknown[]) => [fakeAttempt, ...attempts]);
        await rewrite("/admin/stats", (stats: { webhooks: unknown[] }) => ({ ...stats, webhooks: [...stats.webhooks, fakeHealth] }));

        await signInAndWait(page);
        const row = agentRow(page, IMG_MARKUP);
        await row.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await row.locator(".agent-name").textContent()).toBe(IMG_MARKUP);
        await vi.waitFor(async () => expect(await row.locator(".health").textContent(), "health of the fake agent").toBe("failing (3)"), { timeout: PANEL_WAIT_MS, interval: 150 });

        const item = feedItem(page, "fake-markup-item");
        await item.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await item.locator(".from").textContent()).toBe(IMG_MARKUP);
        expect(await item.locator(".to").textContent()).toBe(IMG_MARKUP);
        expect(await item.locator(".topic").textContent()).toBe(`#${IMG_MARKUP}`);
        expect(await item.locator(".preview").textContent()).toBe(SCRIPT_MARKUP);
        expect(await item.locator(".topic").isVisible()).toBe(true);

        const channel = page.locator("#channels-body tr.channel-row").first();
        await channel.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await channel.locator(".topic").textContent()).toBe(`#${IMG_MARKUP}`);
        expect(await channel.locator(".num").textContent()).toBe("7");

        const attempt = page.locator("#webhooks li.attempt-row").first();
        await attempt.waitFor({ timeout: PANEL_WAIT_MS });
        expect(await attempt.locator(".agent-name").textContent()).toBe(IMG_MARKUP);
        expect(await attempt.locator(".attempt-no").textContent()).toBe("#2");
        expect(await attempt.locator(".error-detail").textContent()).toBe(SCRIPT_MARKUP);

        expect(await injectedElements(page)).toBe(0);
      });
    });
  });

  describe("layout", () => {
    it("at 1280×800 the panels sit side by side without horizontal overflow (screenshot: dashboard-desktop.png)", async () => {
      await withDashboard({ width: 1280, height: 800 }, async ({ page }) => {
        await signInAndWait(page);
        await agentRow(page, hookFail.name).waitFor({ timeout: PANEL_WAIT_MS });
        await page.locator("#feed li.feed-item").first().waitFor({ timeout: PANEL_WAIT_MS });
        await page.locator("#webhooks li.attempt-row").first().waitFor({ timeout: PANEL_WAIT_MS });
        await page.locator("#chart-throughput rect.bar").first().waitFor({ timeout: PANEL_WAIT_MS });

        const { scrollWidth, innerWidth } = await noHorizontalOverflow(page);
        expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
        const agents = (await page.locator(".agents-panel").boundingBox())!;
        const feed = (await page.locator(".feed-panel").boundingBox())!;
        const webhooks = (await page.locator(".webhooks-panel").boundingBox())!;
        expect(agents.x + agents.width).toBeLessThanOrEqual(feed.x);
        expect(feed.x + feed.width).toBeLessThanOrEqual(webhooks.x);
        expect(feed.y + feed.height).toBeLessThanOrEqual(800);
        await page.screenshot({ path: join(ARTIFACTS, "dashboard-desktop.png") });
      });
    });

    it("at 390×844 the panels stack without horizontal overflow (screenshot: dashboard-phone.png)", async () => {
      await withDashboard({ width: 390, height: 844 }, async ({ page }) => {
        await page.goto(`${testRelay!.url}/dashboard`);
        expect((await noHorizontalOverflow(page)).scrollWidth).toBeLessThanOrEqual(390);
        await signInAndWait(page);
        await agentRow(page, hookFail.name).waitFor({ timeout: PANEL_WAIT_MS });
        await page.locator("#feed li.feed-item").first().waitFor({ timeout: PANEL_WAIT_MS });
        await page.locator("#webhooks li.attempt-row").first().waitFor({ timeout: PANEL_WAIT_MS });

        const { scrollWidth, innerWidth } = await noHorizontalOverflow(page);
        expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
        const panels = await page.locator("#dashboard-view .panel").evaluateAll((sections) =>
          sections.map((s) => {
            const box = s.getBoundingClientRect();
            return { left: box.left, right: box.right, top: box.top };
          }),
        );
        expect(panels.length).toBe(7);
        for (const box of panels) {
          expect(box.left).toBeGreaterThanOrEqual(0);
          expect(box.right).toBeLessThanOrEqual(390);
        }
        // stacked: one column, each panel below the one before
        const tops = panels.map((p) => p.top).sort((a, b) => a - b);
        expect(new Set(tops).size).toBe(7);
        expect(new Set(panels.map((p) => Math.round(p.left))).size).toBe(1);
        await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
      });
    });
  });
});
