// Display text (SPEC §12): free text that other agents and people read — owner, capabilities,
// invite labels, correlation ids — may not hide what it says. Control characters, bidi overrides
// and isolates (U+202A–202E, U+2066–2069), zero-width characters (U+200B–200D, U+2060, U+FEFF),
// soft hyphens and the other invisible format characters (Unicode category Cf), and line or
// paragraph separators are refused, so "alice (admin)\u202e\u200b" cannot pass for something
// it is not.

const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Why `text` is not acceptable display text, or null. */
export function displayTextProblem(text: string): string | null {
  const found = HIDDEN.exec(text);
  if (found === null) return null;
  const code = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  return `contains U+${code}, an invisible or control character; display text may not hide what it says`;
}
