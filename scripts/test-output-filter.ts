// A line filter for vitest's output under `npm test`: it hides the lines workerd and vite print
// during a passing run that look like failures but are not, and says once at the end how many it
// hid and why. Only exact, known shapes are hidden, and never in a failing run: from the first
// sign of a failure on, every line passes, and the lines hidden before it are printed at the end.
//
// The known lines (ANSI colours ignored when matching; lines are passed on unchanged):
// - `exception = workerd/api/web-socket.c++:NNN: disconnected: WebSocket peer disconnected`:
//   vitest-pool-workers closing its connection to workerd when a test file ends.
// - `uncaught exception; source = Uncaught (in promise); stack = Error: Network connection lost.`,
//   `uncaught exception; exception = workerd/jsg/...: disconnected: jsg.Error: Network connection lost.`
//   and `exception = kj/async-io.c++:NNN: disconnected: stream disconnected prematurely`: a
//   webhook or long-poll connection that a test closes on purpose (timeouts, restarts).
// - `stack: <path>/workerd@<hex> ...`: the address-only stack workerd prints after those (hidden
//   only right after a hidden line, so an unknown line keeps its stack).
// - `Sourcemap for "<...>/node_modules/<...>" points to missing source files`: a dependency
//   published without its sources.

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

const HARMLESS: readonly RegExp[] = [
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected$/,
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\.$/,
  /^uncaught exception; exception = workerd\/jsg\/\S+: disconnected: jsg\.Error: Network connection lost\.$/,
  /^exception = kj\/async-io\.c\+\+:\d+: disconnected: stream disconnected prematurely$/,
  /^Sourcemap for "[^"]*\/node_modules\/[^"]*" points to missing source files$/,
];
const WORKERD_STACK = /^stack:( \S+\/workerd@[0-9a-f]+)+$/;

/** Lines by which vitest reports a failure; from one of these on, nothing is hidden. */
const FAILURE: readonly RegExp[] = [
  /^\s*(×|✗|FAIL)\s/,
  /Failed (Tests|Suites) \d+/,
  /Unhandled (Errors?|Rejection)/,
  /^\s*❯ .*\| \d+ failed/,
  /^\s*Tests\s.*\d+ failed/,
];

export type Stream = "stdout" | "stderr";

export interface OutputFilter {
  /** Whether to print this line (without its newline) of `stream` now. */
  keep(line: string, stream: Stream): boolean;
  /** What to print after the run, given vitest's exit code: a sentence, the hidden lines, or nothing. */
  summary(exitCode: number): string[];
}

/** One filter for both streams: a failure on either stops all hiding; a stack line belongs to the line before it on its stream. */
export function createOutputFilter(): OutputFilter {
  const hidden: string[] = [];
  let failureSeen = false;
  const previousHidden: Record<Stream, boolean> = { stdout: false, stderr: false };
  return {
    keep(line, stream) {
      const plain = line.replace(ANSI, "").trimEnd();
      if (!failureSeen && FAILURE.some((pattern) => pattern.test(plain))) failureSeen = true;
      const harmless = HARMLESS.some((pattern) => pattern.test(plain)) || (previousHidden[stream] && WORKERD_STACK.test(plain));
      previousHidden[stream] = !failureSeen && harmless;
      if (!previousHidden[stream]) return true;
      hidden.push(line);
      return false;
    },
    summary(exitCode) {
      if (hidden.length === 0) return [];
      if (exitCode !== 0 || failureSeen) {
        return [`clawtalk test: the run failed, so here are the ${hidden.length} lines hidden before the failure showed (usually harmless workerd and sourcemap lines):`, ...hidden];
      }
      return [
        `clawtalk test: hid ${hidden.length} known-harmless lines: workerd's "WebSocket peer disconnected" and "Network connection lost" when tests close connections on purpose, their address-only stacks, and warnings about dependencies published without source maps (see scripts/test-output-filter.ts).`,
      ];
    },
  };
}
