/**
 * The mutations a hostile or damaged file can carry, one fast-check arbitrary per kind, each a
 * function from a valid file's bytes to damaged bytes. Every parser is fuzzed with the same set:
 * bit flips, truncation, huge lengths/offsets/ids/dims written over binary fields, NaN/Inf floats,
 * extreme JSON numbers (and 100k-deep arrays) in place of a JSON number, deep nesting, invalid UTF-8,
 * a BOM, a 1 MB run of one pattern, and a chunk spliced from elsewhere in the file.
 */
import fc from "fast-check";

export interface Mutation {
  kind: string;
  apply: (bytes: Uint8Array) => Uint8Array;
}

/** A position, half the time within the first 4 KiB (where headers, lengths and offsets live). */
const position = fc.record({ head: fc.boolean(), at: fc.nat() });
const place = ({ head, at }: { head: boolean; at: number }, length: number) =>
  length === 0 ? 0 : at % (head ? Math.min(length, 4096) : length);

const insert = (bytes: Uint8Array, at: number, chunk: Uint8Array) => {
  const out = new Uint8Array(bytes.length + chunk.length);
  out.set(bytes.subarray(0, at));
  out.set(chunk, at);
  out.set(bytes.subarray(at), at + chunk.length);
  return out;
};
const ascii = (s: string) => new TextEncoder().encode(s);

const bitFlips = fc
  .record({ flips: fc.array(fc.record({ p: position, bit: fc.integer({ min: 0, max: 7 }) }), { minLength: 1, maxLength: 20 }) })
  .map(
    ({ flips }): Mutation => ({
      kind: "bit flips",
      apply: (bytes) => {
        const out = bytes.slice();
        for (const { p, bit } of flips) if (out.length) out[place(p, out.length)] ^= 1 << bit;
        return out;
      },
    }),
  );

const truncation = fc
  .record({ p: position })
  .map(({ p }): Mutation => ({ kind: "truncation", apply: (bytes) => bytes.slice(0, place(p, bytes.length)) }));

/** Little-endian patterns of lengths, offsets, ids and dims no file can hold. */
const hugeValues: bigint[] = [
  0n,
  0xffffffffn,
  0x7fffffffn,
  0x80000000n,
  2n ** 53n,
  2n ** 64n - 1n,
  2n ** 63n,
  1n << 40n,
  1_000_000_000_000_000n,
];
const hugeNumber = fc
  .record({ p: position, value: fc.constantFrom(...hugeValues), width: fc.constantFrom(4, 8), aligned: fc.boolean() })
  .map(
    ({ p, value, width, aligned }): Mutation => ({
      kind: "huge number",
      apply: (bytes) => {
        const out = bytes.slice();
        let at = place(p, out.length);
        if (aligned) at -= at % width;
        const view = new DataView(out.buffer);
        if (at + width > out.length) return out;
        if (width === 8) view.setBigUint64(at, value & (2n ** 64n - 1n), true);
        else view.setUint32(at, Number(value & 0xffffffffn), true);
        return out;
      },
    }),
  );

const nanInf = fc.record({ p: position, value: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3e38) }).map(
  ({ p, value }): Mutation => ({
    kind: "NaN/Inf",
    apply: (bytes) => {
      const out = bytes.slice();
      const at = place(p, out.length) & ~3;
      if (at + 4 <= out.length) new DataView(out.buffer).setFloat32(at, value, true);
      return out;
    },
  }),
);

/** Replaces the n-th JSON number literal of the file (if any) with an extreme or ill-typed value. */
const jsonValue = fc
  .record({
    which: fc.nat(),
    value: fc.constantFrom("1e15", "1e300", "-1", "2147483648", "4294967296", "1e12", "0.5", "-0", "null", '"7"', "{}", "true", "DEEP"),
    depth: fc.integer({ min: 1000, max: 100_000 }),
  })
  .map(
    ({ which, value, depth }): Mutation => ({
      kind: "extreme JSON value",
      apply: (bytes) => {
        // JSON lives in the first 64 KiB of every format here (a safetensors header, a config, a JSONL file's first lines).
        const text = new TextDecoder("latin1").decode(bytes.subarray(0, 65_536));
        // Bounded quantifiers only: a file may hold a 1 MB run of spaces or digits.
        const numbers = [...text.matchAll(/[:[,] ?(-?\d{1,20}(\.\d{1,20})?([eE][+-]?\d{1,3})?)/g)];
        if (numbers.length === 0) return bytes;
        const m = numbers[which % numbers.length];
        const replacement = value === "DEEP" ? `${"[".repeat(depth)}1${"]".repeat(depth)}` : value;
        const start = (m.index ?? 0) + m[0].length - m[1].length;
        return concat(bytes.subarray(0, start), ascii(replacement), bytes.subarray(start + m[1].length));
      },
    }),
  );

const deepNesting = fc
  .record({ p: position, depth: fc.integer({ min: 1000, max: 200_000 }), open: fc.constantFrom("[", "{", '{"a":') })
  .map(
    ({ p, depth, open }): Mutation => ({
      kind: "deep nesting",
      apply: (bytes) => {
        const close = open === "[" ? "]" : "}";
        const inner = open === "[" ? "1" : open === "{" ? "" : "1";
        return insert(bytes, place(p, bytes.length), ascii(open.repeat(depth) + inner + close.repeat(depth)));
      },
    }),
  );

const invalidUtf8 = fc
  .record({
    p: position,
    seq: fc.constantFrom([0xff], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]),
  })
  .map(({ p, seq }): Mutation => ({ kind: "invalid UTF-8", apply: (bytes) => insert(bytes, place(p, bytes.length), new Uint8Array(seq)) }));

const bom = fc.constant<Mutation>({ kind: "BOM", apply: (bytes) => insert(bytes, 0, new Uint8Array([0xef, 0xbb, 0xbf])) });

const longLine = fc.record({ p: position, pattern: fc.constantFrom("a", " ", "[", "0", '"a":1,', "\\u0000", "\xff") }).map(
  ({ p, pattern }): Mutation => ({
    kind: "1 MB run",
    apply: (bytes) => {
      const repeats = Math.ceil(1_048_576 / pattern.length);
      const run = pattern === "\xff" ? new Uint8Array(repeats).fill(0xff) : ascii(pattern.repeat(repeats));
      return insert(bytes, place(p, bytes.length), run);
    },
  }),
);

const splice = fc.record({ from: position, to: position, length: fc.integer({ min: 1, max: 4096 }) }).map(
  ({ from, to, length }): Mutation => ({
    kind: "spliced chunk",
    apply: (bytes) => {
      const start = place(from, bytes.length);
      return insert(bytes, place(to, bytes.length), bytes.slice(start, start + length));
    },
  }),
);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  bitFlips,
  truncation,
  hugeNumber,
  nanInf,
  jsonValue,
  deepNesting,
  invalidUtf8,
  bom,
  longLine,
  splice,
);

/** One to three mutations applied in turn to one of the seed files. */
export const mutatedCase = (seeds: number) =>
  fc.record({ seed: fc.nat({ max: seeds - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) });
