/**
 * Runs a parser on mutated copies of its valid seed files and sorts each outcome: a typed project
 * error naming the file ("typed error"), any other exception ("other error"), a parse over 2 s
 * ("hang"), more than 64 MiB of memory growth ("memory"), or success ("accepted"). The property a
 * parser must keep: only typed errors or acceptance.
 */
import fc from "fast-check";
import { mutatedCase } from "./mutations";
import { type ParserTarget, typedErrors } from "./parser-targets";

export const hangMs = 2000;
export const memoryLimitBytes = 64 * 1024 * 1024;

export type Outcome = "typed error" | "other error" | "hang" | "memory" | "accepted";

export interface FuzzTally {
  parser: string;
  cases: number;
  counts: Record<Outcome, number>;
  /** The first few bad cases, for the report. */
  failures: string[];
  wallMs: number;
}

const baseName = (file: string) => file.split("/").pop() ?? file;

function classify(target: ParserTarget, file: string, error: unknown): Outcome {
  if (!typedErrors.some((E) => error instanceof E)) return "other error";
  const names = target.named?.(file) ?? [baseName(file)];
  return names.some((n) => (error as Error).message.includes(n)) ? "typed error" : "other error";
}

const memoryInUse = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

async function runOnce(target: ParserTarget, bytes: Uint8Array, file: string): Promise<{ outcome: Outcome; detail: string; ms: number }> {
  const before = memoryInUse();
  const t0 = performance.now();
  // @huggingface/tokenizers logs what it cannot read (a 1 MB regex included) before throwing; the outcome is what counts.
  const { warn, log, error } = console;
  console.warn = console.log = console.error = () => {};
  try {
    const result = await target.parse(bytes, file);
    const grown = memoryInUse() - before;
    void result; // held until here, so its memory counts
    return {
      outcome: grown > memoryLimitBytes ? "memory" : "accepted",
      detail: `${(grown / 2 ** 20).toFixed(0)} MiB`,
      ms: performance.now() - t0,
    };
  } catch (e) {
    return {
      outcome: classify(target, file, e),
      detail: `${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 200)}`,
      ms: performance.now() - t0,
    };
  } finally {
    Object.assign(console, { warn, log, error });
  }
}

/** Fuzzes one parser with `runs` seeded cases; never stops early, so the tally covers every case. */
export async function fuzzParser(target: ParserTarget, runs: number, seed: number): Promise<FuzzTally> {
  const tally: FuzzTally = {
    parser: target.name,
    cases: 0,
    counts: { "typed error": 0, "other error": 0, hang: 0, memory: 0, accepted: 0 },
    failures: [],
    wallMs: 0,
  };
  const started = performance.now();
  const cases = fc.sample(mutatedCase(target.seeds.length), { numRuns: runs, seed });
  for (const c of cases) {
    const { file, bytes } = target.seeds[c.seed];
    const mutated = c.mutations.reduce((b, m) => m.apply(b), bytes);
    let { outcome, detail, ms } = await runOnce(target, mutated, file);
    // A slow case is timed again: a real hang repeats, a pause of a loaded machine (GC, another process) does not.
    if (ms > hangMs) ms = Math.min(ms, (await runOnce(target, mutated, file)).ms);
    if (ms > hangMs) outcome = "hang";
    tally.counts[outcome]++;
    tally.cases++;
    if (outcome !== "typed error" && outcome !== "accepted" && tally.failures.length < 5) {
      tally.failures.push(`${outcome} on ${file} after [${c.mutations.map((m) => m.kind).join(", ")}] (${ms.toFixed(0)} ms): ${detail}`);
    }
  }
  tally.wallMs = performance.now() - started;
  return tally;
}

/** The table of the issue: parser | typed error | other error | hang | accepted (memory blow-ups counted with hangs' column next to it). */
export function fuzzTable(tallies: readonly FuzzTally[]): string {
  const rows = tallies.map(
    (t) =>
      `| ${t.parser} | ${t.cases} | ${t.counts["typed error"]} | ${t.counts["other error"]} | ${t.counts.hang} | ${t.counts.memory} | ${t.counts.accepted} | ${(t.wallMs / 1000).toFixed(1)} s |`,
  );
  return [
    "| parser | cases | typed error | other error | hang > 2 s | memory > 64 MiB | accepted | wall time |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
