// What JSON.parse accepts but a request body must not carry: a key twice in one object (JSON.parse
// keeps the last, so a signed message could mean two things), a number outside the doubles
// (`1e309` parses to Infinity, which no JSON can represent again), and nesting deeper than the
// relay recurses. One pass over text that JSON.parse has already accepted, iterative so hostile
// nesting cannot overflow the stack; it builds no values.

interface Frame {
  object: boolean;
  /** Keys seen so far (objects only). */
  keys: Set<string> | null;
  /** The current key (objects) or index (arrays), for the path in messages. */
  at: string | number;
  /** Objects: the next string is a key. */
  expectKey: boolean;
}

/** `payload.items[2].n`, or "body" for the top level. */
function pathOf(frames: Frame[]): string {
  let path = "";
  for (const frame of frames) {
    if (typeof frame.at === "number") path += `[${frame.at}]`;
    else if (frame.at !== "") path += path === "" ? frame.at : `.${frame.at}`;
  }
  return path === "" ? "body" : path;
}

/** End of the string starting at the quote `start` (the index of its closing quote). */
function stringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
}

const NUMBER_CHAR = /[-+0-9.eE]/;

/** Why `text` (valid JSON) is not acceptable as a body, or null when it is. */
export function strictJsonProblem(text: string, maxDepth: number): string | null {
  const frames: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const top = frames[frames.length - 1];
    if (ch === "{" || ch === "[") {
      if (frames.length >= maxDepth) return `${pathOf(frames)}: nested deeper than ${maxDepth} levels.`;
      const object = ch === "{";
      frames.push({ object, keys: object ? new Set() : null, at: object ? "" : 0, expectKey: object });
      i++;
    } else if (ch === "}" || ch === "]") {
      frames.pop();
      i++;
    } else if (ch === ",") {
      if (top?.object) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
      i++;
    } else if (ch === '"') {
      const end = stringEnd(text, i);
      if (top?.object && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes("\\") ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.keys!.has(key)) {
          top.at = "";
          return `${pathOf(frames)}: the key ${JSON.stringify(key)} appears more than once; each key may appear once.`;
        }
        top.keys!.add(key);
        top.at = key;
        top.expectKey = false;
      }
      i = end + 1;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      const start = i;
      while (i < text.length && NUMBER_CHAR.test(text[i]!)) i++;
      const literal = text.slice(start, i);
      if (!Number.isFinite(Number(literal))) {
        return `${pathOf(frames)}: the number ${literal.length > 40 ? `${literal.slice(0, 40)}…` : literal} is out of range; expected a finite number.`;
      }
    } else {
      i++; // whitespace, ':', and the letters of true / false / null
    }
  }
  return null;
}
