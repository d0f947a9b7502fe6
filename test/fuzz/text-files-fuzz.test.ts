import { parserFuzzSuite } from "./parser-fuzz-suite";

parserFuzzSuite([
  "tokenizer.json",
  "config.json",
  "JSONL (Alpaca, calibration)",
  "training checkpoint",
  "training checkpoint, re-checksummed",
]);
