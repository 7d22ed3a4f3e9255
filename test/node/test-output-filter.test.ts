// scripts/test-output-filter.ts, the filter `npm test` puts between vitest and the terminal: it
// hides exactly the known-harmless workerd and sourcemap lines, says how many at the end of a
// passing run, and ends a failing run with what failed.

import { describe, expect, test } from "vitest";
import { createOutputFilter, type Stream } from "../../scripts/test-output-filter.js";

const STACK = "stack: /repo/node_modules/@cloudflare/workerd-linux-64/bin/workerd@51ccf21 /repo/node_modules/@cloudflare/workerd-linux-64/bin/workerd@2c3e830";
const KNOWN: readonly [string, Stream][] = [
  ["exception = workerd/api/web-socket.c++:821: disconnected: WebSocket peer disconnected", "stdout"],
  ["exception = kj/async-io.c++:60: disconnected: stream disconnected prematurely", "stdout"],
  [STACK, "stdout"],
  ["uncaught exception; source = Uncaught (in promise); stack = Error: Network connection lost.", "stdout"],
  ["uncaught exception; exception = workerd/jsg/_virtual_includes/iterator/workerd/jsg/value.h:1480: disconnected: jsg.Error: Network connection lost.", "stdout"],
  [STACK, "stdout"],
  ['Sourcemap for "/repo/node_modules/standardwebhooks/dist/index.js" points to missing source files', "stderr"],
];

/** Feeds lines through a fresh filter; answers what it printed and its summary. */
function run(lines: readonly [string, Stream][], exitCode: number): { printed: string[]; summary: string[] } {
  const filter = createOutputFilter();
  const printed = lines.filter(([line, stream]) => filter.keep(line, stream)).map(([line]) => line);
  return { printed, summary: filter.summary(exitCode) };
}

describe("the npm test output filter", () => {
  test("a passing run: the known lines are hidden, everything else is printed, and one sentence says how many and why", () => {
    const other: [string, Stream][] = [
      [" ✓  workers  test/workers/smoke.test.ts (2 tests) 30ms", "stdout"],
      ["exception = kj/async-io-unix.c++:1538: disconnected: connect(): Connection refused", "stdout"],
      [STACK, "stdout"], // the stack of a line that is not hidden stays with it
      [" Tests  2 passed (2)", "stdout"],
    ];
    const { printed, summary } = run([...KNOWN, ...other], 0);
    expect(printed).toEqual(other.map(([line]) => line));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toContain(`hid ${KNOWN.length} known-harmless lines`);
    expect(summary[0]).toContain("WebSocket peer disconnected");
    expect(summary[0]).toContain("Network connection lost");
  });

  test("coloured lines are matched without their colours and printed unchanged", () => {
    const coloured = "\x1b[31mexception = workerd/api/web-socket.c++:821: disconnected: WebSocket peer disconnected\x1b[39m";
    const pass = "\x1b[32m✓\x1b[39m test/workers/smoke.test.ts";
    expect(run([[coloured, "stdout"], [pass, "stdout"]], 0)).toEqual({ printed: [pass], summary: [expect.stringContaining("hid 1 ")] });
  });

  test("a line that only mentions a known message (an assertion, a log line) is printed", () => {
    const lines: [string, Stream][] = [
      ["AssertionError: expected 'Error: Network connection lost.' to be 'ok'", "stderr"],
      ["  WebSocket peer disconnected while sending", "stdout"],
      ['Sourcemap for "/repo/worker/index.ts" points to missing source files', "stderr"],
    ];
    expect(run(lines, 0)).toEqual({ printed: lines.map(([line]) => line), summary: [] });
  });

  test("a failing run: known lines stay hidden, and the output ends with the failed tests and the totals, not with the hidden lines", () => {
    const lines: [string, Stream][] = [
      KNOWN[0]!,
      [" ❯  node  test/node/cli.test.ts (47 tests | 1 failed) 70s", "stdout"],
      ["   × register > works 120ms", "stdout"],
      KNOWN[1]!,
      ["⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯", "stdout"],
      [" FAIL   node  test/node/cli.test.ts > register > works", "stdout"],
      ["AssertionError: expected 2 to be 0", "stdout"],
      [" Test Files  1 failed | 78 passed (79)", "stdout"],
      ["      Tests  1 failed | 2138 passed (2139)", "stdout"],
      KNOWN[6]!,
    ];
    const filter = createOutputFilter();
    const printed = lines.filter(([line, stream]) => filter.keep(line, stream)).map(([line]) => line);
    expect(printed).not.toContain(KNOWN[0]![0]);
    expect(printed).not.toContain(KNOWN[6]![0]);
    expect(printed).toContain("AssertionError: expected 2 to be 0");
    expect(filter.hidden()).toEqual([KNOWN[0]![0], KNOWN[1]![0], KNOWN[6]![0]]);
    const summary = filter.summary(1, "test-results/hidden-output.log");
    expect(summary).toEqual([
      expect.stringContaining("3 known-harmless workerd and sourcemap lines were hidden; they are in test-results/hidden-output.log"),
      expect.stringContaining("the run failed"),
      " ❯  node  test/node/cli.test.ts (47 tests | 1 failed) 70s",
      "   × register > works 120ms",
      " FAIL   node  test/node/cli.test.ts > register > works",
      " Test Files  1 failed | 78 passed (79)",
      "      Tests  1 failed | 2138 passed (2139)",
    ]);
  });

  test("an unhandled error is repeated at the end with its first lines, which say where it came from", () => {
    const filter = createOutputFilter();
    const lines = [
      "⎯⎯⎯⎯ Unhandled Rejection ⎯⎯⎯⎯",
      "Error: aborted",
      " ❯ abortIncoming node:_http_server:796:17",
      "",
      ...Array.from({ length: 8 }, (_, i) => ` ❯ frame${i}`),
      "This error originated in \"test/node/webhook-restart.test.ts\" test file.",
      'The latest test that might\'ve caused the error is "a message answered 201". It might mean one of the following:',
    ];
    for (const line of lines) expect(filter.keep(line, "stderr")).toBe(true);
    expect(filter.summary(1)).toEqual([
      expect.stringContaining("the run failed"),
      ...lines.slice(0, 3),
      ...lines.slice(4, 8),
      lines.at(-2),
      lines.at(-1),
    ]);
  });

  test("the same failed test named twice is repeated once, and the repeat stops at 60 lines", () => {
    const filter = createOutputFilter();
    filter.keep(" FAIL  a.test.ts > x", "stdout");
    filter.keep(" FAIL  a.test.ts > x", "stdout");
    for (let i = 0; i < 100; i++) filter.keep(` FAIL  b.test.ts > t${i}`, "stdout");
    const summary = filter.summary(1);
    expect(summary.filter((line) => line === " FAIL  a.test.ts > x")).toHaveLength(1);
    expect(summary).toHaveLength(1 + 60);
  });

  test("a non-zero exit code without a failed test says so at the end", () => {
    const filter = createOutputFilter();
    expect(filter.keep(KNOWN[0]![0], "stdout")).toBe(false);
    expect(filter.summary(1)).toEqual([expect.stringContaining("1 known-harmless"), expect.stringContaining("exited with 1 without naming a failed test")]);
  });

  test("a passing run whose output has a line that looks like a failure still ends with the passing sentence", () => {
    const filter = createOutputFilter();
    filter.keep(KNOWN[0]![0], "stdout");
    filter.keep("FAIL  is what the callback printed", "stdout");
    expect(filter.summary(0)).toEqual([expect.stringContaining("hid 1 known-harmless lines")]);
  });
});
