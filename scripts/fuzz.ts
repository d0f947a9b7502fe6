/**
 * `npm run fuzz [-- --runs N --seed S --only NAME]`: every file parser (or the one named) on N (default 10,000) seeded mutations of
 * its valid files, then the table of outcomes with the wall time. Exits 1 when any parser threw an
 * untyped error, ran over 2 s or grew memory by over 64 MiB (the first such cases are listed).
 */
import { parseArgs } from "node:util";
import { fuzzParser, fuzzTable } from "../test/fuzz/fuzz-harness";
import { parserTargets } from "../test/fuzz/parser-targets";

const { values } = parseArgs({ options: { runs: { type: "string" }, seed: { type: "string" }, only: { type: "string" } } });
const runs = Number(values.runs ?? 10_000);
const seed = Number(values.seed ?? 20_261_202);
const started = performance.now();
const tallies = [];
for (const target of parserTargets().filter((t) => values.only === undefined || t.name === values.only)) {
  const tally = await fuzzParser(target, runs, seed);
  tallies.push(tally);
  console.error(`${target.name}: ${tally.cases} cases in ${(tally.wallMs / 1000).toFixed(1)} s`);
  for (const f of tally.failures) console.error(`  ${f}`);
}
console.log(fuzzTable(tallies));
console.log(`\n${runs} cases per parser, seed ${seed}, wall time ${((performance.now() - started) / 1000).toFixed(0)} s`);
process.exitCode = tallies.some((t) => t.failures.length > 0) ? 1 : 0;
