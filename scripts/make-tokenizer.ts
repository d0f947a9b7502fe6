/**
 * Fits the demo tokenizer on the demo world and writes public/models/demo/tokenizer.json and
 * tokenizer_config.json. Deterministic: rerunning it rewrites the same bytes.
 *
 *   npm run make:tokenizer [-- --out DIR]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildDemoTokenizer, demoTokenizerSettings, tokenizerFileText } from "../src/data/demo-tokenizer";

const outFlag = process.argv.indexOf("--out");
const out = outFlag >= 0 ? process.argv[outFlag + 1] : "public/models/demo";
if (!out) {
  console.error("usage: make-tokenizer [--out DIR]");
  process.exit(2);
}
const started = performance.now();
const { tokenizerJson, tokenizerConfig } = buildDemoTokenizer();
await mkdir(out, { recursive: true });
await writeFile(join(out, "tokenizer.json"), tokenizerFileText(tokenizerJson));
await writeFile(join(out, "tokenizer_config.json"), tokenizerFileText(tokenizerConfig));
const vocab = Object.keys((tokenizerJson.model as { vocab: object }).vocab).length;
console.log(
  `wrote ${out}/tokenizer.json (${vocab} tokens, target ${demoTokenizerSettings.vocabSize}) and tokenizer_config.json in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
