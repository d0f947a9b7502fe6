/**
 * A linear pre-scan of JSON text before `JSON.parse`: nesting deeper than `maxDepth` (a million `[`
 * make V8's parser run for seconds) or a string longer than `maxString` characters (a 1 MB token or
 * pattern makes the tokenizer library build tables for seconds) is reported as a problem, with its
 * offset, so the caller can throw its own typed error naming the file.
 */
export interface JsonBounds {
  maxDepth: number;
  maxString: number;
}

/** The first bound `text` exceeds, as a phrase for an error message; undefined when within bounds. */
export function jsonBoundsProblem(text: string, { maxDepth, maxString }: JsonBounds): string | undefined {
  let depth = 0;
  let stringStart = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (stringStart >= 0) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) stringStart = -1;
      else if (i - stringStart > maxString) return `a string at offset ${stringStart} is longer than ${maxString} characters`;
    } else if (c === 0x22) stringStart = i;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return `nesting at offset ${i} is deeper than ${maxDepth} levels`;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}
