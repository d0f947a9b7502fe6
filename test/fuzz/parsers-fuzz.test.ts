/**
 * Every parser on 500 seeded mutations of its valid files (`npm run fuzz` runs 10,000 each): only a
 * typed error naming the file, or a successful parse; never another exception, a parse over 2 s or
 * 64 MiB of growth. The seeds themselves must parse, or the mutations would test nothing.
 */
import { describe, expect, it } from "vitest";
import { fuzzParser, fuzzTable } from "./fuzz-harness";
import { parserTargets } from "./parser-targets";

const targets = parserTargets();
const runs = 500;

describe("parsers under seeded mutation", () => {
  it.each(targets.map((t) => [t.name, t] as const))("%s: its seed files parse as they are", async (_, target) => {
    for (const { file, bytes } of target.seeds) await expect(Promise.resolve(target.parse(bytes, file)), file).resolves.toBeDefined();
  });

  it.each(targets.map((t) => [t.name, t] as const))(`%s: ${runs} mutations give typed errors or parses only`, async (_, target) => {
    const tally = await fuzzParser(target, runs, 20_261_202);
    console.log(fuzzTable([tally]));
    expect(tally.failures, tally.failures.join("\n")).toEqual([]);
    expect(tally.counts["typed error"] + tally.counts.accepted).toBe(runs);
  });
});
