// scripts/test-output-filter.ts, the filter `npm test` puts between vitest and the terminal: it
// hides exactly the known-harmless workerd and sourcemap lines of a passing run, says how many at
// the end, and hides nothing of a failing run.

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

  test("after a failure shows on either stream nothing is hidden, and the lines hidden before are printed at the end", () => {
    const before: [string, Stream] = KNOWN[0]!;
    const failure: [string, Stream] = [" FAIL   node  test/node/cli.test.ts > register > works", "stderr"];
    const after: [string, Stream] = KNOWN[1]!;
    const { printed, summary } = run([before, failure, after], 1);
    expect(printed).toEqual([failure[0], after[0]]);
    expect(summary.slice(1)).toEqual([before[0]]);
    expect(summary[0]).toContain("failed");
  });

  test.each([
    ["× register works 120ms"],
    ["⎯⎯⎯⎯ Failed Tests 2 ⎯⎯⎯⎯"],
    ["⎯⎯⎯⎯ Unhandled Errors ⎯⎯⎯⎯"],
    [" ❯  node  test/node/cli.test.ts (47 tests | 1 failed) 70s"],
    ["      Tests  1 failed | 46 passed (47)"],
  ])("%s counts as a failure: known lines after it are printed", (marker) => {
    expect(run([[marker, "stdout"], KNOWN[0]!], 1).printed).toEqual([marker, KNOWN[0]![0]]);
  });

  test("a non-zero exit code without a failure line still prints the hidden lines at the end", () => {
    const { printed, summary } = run([KNOWN[0]!], 1);
    expect(printed).toEqual([]);
    expect(summary).toEqual([expect.stringContaining("failed"), KNOWN[0]![0]]);
  });
});
