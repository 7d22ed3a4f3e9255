// A line filter for vitest's output under `npm test`. It hides the lines workerd and vite print
// that look like failures but are not, and ends the output with what a reader needs: in a passing
// run one sentence saying how many lines it hid and why; in a failing run the failed tests and
// vitest's totals, repeated last, so a log that keeps only its tail (CI's) still names them. The
// hidden lines of a failing run are written to a file named there, in case one of them matters.
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

/** A failed test or file as vitest names it (`×`/`FAIL` lines, a file's `| N failed` line). */
const FAILED_TEST: readonly RegExp[] = [/^\s*(×|✗|FAIL)\s/, /^\s*❯ .*\| \d+ failed/];
/** vitest's lines that say which file and test an unhandled error came from. */
const ERROR_ORIGIN = /^(This error originated in|The latest test that might've caused)/;
/** vitest's totals at the end of a run. */
const TOTALS = /^\s*(Test Files|Tests|Errors|Start at|Duration)\s/;
/** At most this many failure lines are repeated at the end (the full log has them all). */
const RECAP_MAX = 60;

export type Stream = "stdout" | "stderr";

export interface OutputFilter {
  /** Whether to print this line (without its newline) of `stream` now. */
  keep(line: string, stream: Stream): boolean;
  /** The lines hidden so far, in order. */
  hidden(): readonly string[];
  /**
   * What to print last, given vitest's exit code: for a passing run one sentence (or nothing);
   * for a failing run where the hidden lines were saved (`hiddenSavedTo`), the failed tests and
   * the totals.
   */
  summary(exitCode: number, hiddenSavedTo?: string): string[];
}

/** One filter for both streams; a stack line belongs to the line before it on its stream. */
export function createOutputFilter(): OutputFilter {
  const hidden: string[] = [];
  const failures: string[] = [];
  const seenFailures = new Set<string>();
  const totals = new Map<string, string>();
  let unhandledLinesLeft = 0;
  const previousHidden: Record<Stream, boolean> = { stdout: false, stderr: false };
  const note = (line: string, plain: string) => {
    if (seenFailures.has(plain) || failures.length >= RECAP_MAX) return;
    seenFailures.add(plain);
    failures.push(line);
  };
  return {
    keep(line, stream) {
      const plain = line.replace(ANSI, "").trimEnd();
      const harmless = HARMLESS.some((pattern) => pattern.test(plain)) || (previousHidden[stream] && WORKERD_STACK.test(plain));
      previousHidden[stream] = harmless;
      if (harmless) {
        hidden.push(line);
        return false;
      }
      if (FAILED_TEST.some((pattern) => pattern.test(plain))) note(line, plain);
      else if (/Unhandled (Errors?|Rejection)/.test(plain)) {
        note(line, plain);
        unhandledLinesLeft = 6; // the error's name and first lines, which say where it came from
      } else if (ERROR_ORIGIN.test(plain)) note(line, plain);
      else if (unhandledLinesLeft > 0 && plain.trim() !== "") {
        unhandledLinesLeft--;
        note(line, plain);
      }
      const total = TOTALS.exec(plain);
      if (total) totals.set(total[1]!, line);
      return true;
    },
    hidden: () => hidden,
    summary(exitCode, hiddenSavedTo) {
      // The exit code decides: a line that merely looks like a failure (a log line) fails nothing.
      if (exitCode === 0) {
        if (hidden.length === 0) return [];
        return [
          `clawtalk test: hid ${hidden.length} known-harmless lines: workerd's "WebSocket peer disconnected" and "Network connection lost" when tests close connections on purpose, their address-only stacks, and warnings about dependencies published without source maps (see scripts/test-output-filter.ts).`,
        ];
      }
      const saved = hidden.length === 0 ? [] : [`clawtalk test: ${hidden.length} known-harmless workerd and sourcemap lines were hidden${hiddenSavedTo ? `; they are in ${hiddenSavedTo}` : ""}.`];
      const failed = failures.length > 0 ? ["clawtalk test: the run failed. What failed (the details are above):", ...failures] : [`clawtalk test: vitest exited with ${exitCode} without naming a failed test (the details are above).`];
      return [...saved, ...failed, ...totals.values()];
    },
  };
}
