import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCalibrationDataset, readInstructionDataset } from "../../src/data/dataset-source-node";
import { datasetFilesFor, parseHubDatasetSpec, readDatasetRows } from "../../src/data/hub-dataset";
import { instructionRecordsFromRows } from "../../src/data/instruction-columns";
import type { HubEnvironment } from "../../src/model/hub-model-source";
import { runCliCaptured } from "../cli/cli-harness";
import { writeTinyChatFolder } from "../eval/tiny-chat-llama";
import { type HubFixtureServer, startHubFixtureServer } from "../model/hub-fixture-server";

/** A parquet file of string columns, written the way the test's fixtures need it (snappy, hyparquet-writer's default). */
function parquet(columns: Record<string, string[]>): Uint8Array<ArrayBuffer> {
  return new Uint8Array(
    parquetWriteBuffer({ columnData: Object.entries(columns).map(([name, data]) => ({ name, data, type: "STRING" })) }),
  );
}
const jsonl = (rows: object[]) => new TextEncoder().encode(rows.map((r) => `${JSON.stringify(r)}\n`).join(""));

const gsmTrain = {
  question: ["Tom has 3 apples and buys 4 more. How many?", "A box holds 6 eggs. How many in 2 boxes?"],
  answer: ["3 + 4 = 7\n#### 7", "6 * 2 = 12\n#### 12"],
};
const gsmTest = { question: ["What is 5 + 5?"], answer: ["5 + 5 = 10\n#### 10"] };
const alpaca = { instruction: ["Name a colour.", "Add the numbers."], input: ["", "2 and 3"], output: ["Blue.", "5"] };
const dolly = [
  { instruction: "Who wrote it?", context: "The book was written by Ann.", response: "Ann.", category: "closed_qa" },
  { instruction: "Say hello.", context: "", response: "Hello!", category: "open_qa" },
];

let server: HubFixtureServer;
let cacheDir: string;
let env: HubEnvironment;

beforeAll(async () => {
  server = await startHubFixtureServer({
    "datasets/test-org/gsm8k-mini": {
      files: {
        "README.md": new TextEncoder().encode("# card"),
        "main/train-00000-of-00001.parquet": parquet(gsmTrain),
        "main/test-00000-of-00001.parquet": parquet(gsmTest),
        "socratic/train-00000-of-00001.parquet": parquet({ question: ["x"], answer: ["y\n#### 1"] }),
      },
    },
    "datasets/test-org/alpaca-mini": { files: { "data/train-00000-of-00001-abc.parquet": parquet(alpaca) } },
    "datasets/test-org/dolly-mini": { files: { "databricks-dolly-mini.jsonl": jsonl(dolly) } },
    "datasets/test-org/texts": {
      files: { "train.json": new TextEncoder().encode(JSON.stringify([{ text: "one two" }, { text: "three" }])) },
    },
  });
  cacheDir = mkdtempSync(join(tmpdir(), "prunelab-hf-datasets-"));
  env = { endpoint: server.endpoint, offline: false, cacheDir };
});
afterAll(async () => {
  await server.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe("Hub dataset specs and files", () => {
  it.each([
    ["hf:openai/gsm8k", { repoId: "openai/gsm8k" }],
    ["hf:openai/gsm8k:main", { repoId: "openai/gsm8k", config: "main" }],
    ["hf:openai/gsm8k:main:test", { repoId: "openai/gsm8k", config: "main", split: "test" }],
    ["hf:tatsu-lab/alpaca::train", { repoId: "tatsu-lab/alpaca", split: "train" }],
    ["hf:o/n@v1.0:c:s", { repoId: "o/n", revision: "v1.0", config: "c", split: "s" }],
    ["data/train.jsonl", null],
  ])("%s → %j", (text, spec) => {
    expect(parseHubDatasetSpec(text)).toEqual(spec);
  });

  it("refuses malformed hf: text", () => {
    expect(() => parseHubDatasetSpec("hf:noslash")).toThrow(/expected hf:owner\/name\[@revision\]\[:config\]\[:split\]/);
    expect(() => parseHubDatasetSpec("hf:../x/y")).toThrow(/not a Hub dataset/);
  });

  it("picks the config's split by the Hub's file names, train by default, and says what exists otherwise", () => {
    const gsm = [
      "README.md",
      "main/test-00000-of-00001.parquet",
      "main/train-00000-of-00001.parquet",
      "socratic/train-00000-of-00001.parquet",
    ];
    expect(datasetFilesFor({ repoId: "o/gsm", config: "main" }, gsm)).toEqual(["main/train-00000-of-00001.parquet"]);
    expect(datasetFilesFor({ repoId: "o/gsm", config: "main", split: "test" }, gsm)).toEqual(["main/test-00000-of-00001.parquet"]);
    expect(() => datasetFilesFor({ repoId: "o/gsm" }, gsm)).toThrow(/several configs \(main, socratic\): name one/);
    expect(() => datasetFilesFor({ repoId: "o/gsm", config: "x" }, gsm)).toThrow(/no config "x" \(configs: main, socratic\)/);
    expect(() => datasetFilesFor({ repoId: "o/gsm", config: "main", split: "dev" }, gsm)).toThrow(/no split "dev"/);
    const shards = ["data/train-00001-of-00002.parquet", "data/train-00000-of-00002.parquet", "data/validation-00000-of-00001.parquet"];
    expect(datasetFilesFor({ repoId: "o/a" }, shards)).toEqual(["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"]);
    expect(datasetFilesFor({ repoId: "o/d" }, ["README.md", "dolly.jsonl"])).toEqual(["dolly.jsonl"]);
    expect(() => datasetFilesFor({ repoId: "o/e" }, ["README.md"])).toThrow(/no parquet or JSON data files/);
  });

  it("maps Alpaca, Dolly and GSM8K columns to instruction records, naming the row of a bad one", () => {
    expect(instructionRecordsFromRows([{ question: "q?", answer: "a\n#### 3" }], "g")).toEqual([
      { instruction: "q?", input: "", output: "a\n#### 3" },
    ]);
    expect(instructionRecordsFromRows(dolly, "d")[0]).toEqual({
      instruction: "Who wrote it?",
      input: "The book was written by Ann.",
      output: "Ann.",
    });
    expect(instructionRecordsFromRows([{ instruction: "i", output: "o" }], "a")).toEqual([{ instruction: "i", input: "", output: "o" }]);
    expect(() => instructionRecordsFromRows([{ prompt: "p" }], "x")).toThrow(/x: the columns \["prompt"\] are none of Alpaca's/);
    expect(() =>
      instructionRecordsFromRows(
        [
          { question: "q", answer: "a" },
          { question: "q", answer: 3 },
        ],
        "g",
      ),
    ).toThrow(/g row 1: "answer" must be a string, got number/);
  });

  it("reads a parquet file written by another library, and says when a file is not parquet", async () => {
    const rows = await readDatasetRows("t.parquet", new Blob([parquet(gsmTest)]));
    expect(rows).toEqual([{ question: gsmTest.question[0], answer: gsmTest.answer[0] }]);
    await expect(readDatasetRows("bad.parquet", new Blob(["not parquet at all"]))).rejects.toThrow(
      /bad\.parquet is not a readable parquet file/,
    );
  });
});

describe("datasets from the fixture Hub", () => {
  it("reads GSM8K's main test split, Alpaca's sharded parquet and Dolly's JSONL, then again offline without a request", async () => {
    server.treePageSize = 1;
    const gsm = await readInstructionDataset("hf:test-org/gsm8k-mini:main:test", env);
    expect(gsm).toEqual([{ instruction: gsmTest.question[0], input: "", output: gsmTest.answer[0] }]);
    const gsmTrainRecords = await readInstructionDataset("hf:test-org/gsm8k-mini:main", env);
    expect(gsmTrainRecords.map((r) => r.output)).toEqual(gsmTrain.answer);
    expect(await readInstructionDataset("hf:test-org/alpaca-mini", env)).toEqual([
      { instruction: "Name a colour.", input: "", output: "Blue." },
      { instruction: "Add the numbers.", input: "2 and 3", output: "5" },
    ]);
    const dollyRecords = await readInstructionDataset("hf:test-org/dolly-mini", env);
    expect(dollyRecords.map((r) => r.output)).toEqual(["Ann.", "Hello!"]);
    // The tree API was paged one entry at a time and followed to its end.
    expect(server.requests.filter((r) => r.file === "(tree)" && r.repo === "datasets/test-org/gsm8k-mini").length).toBeGreaterThanOrEqual(
      4,
    );

    const before = server.requests.length;
    const offline = { ...env, offline: true };
    expect(await readInstructionDataset("hf:test-org/gsm8k-mini:main:test", offline)).toEqual(gsm);
    expect(await readInstructionDataset("hf:test-org/dolly-mini", offline)).toEqual(dollyRecords);
    expect(server.requests.length).toBe(before);
    await expect(readInstructionDataset("hf:test-org/texts", offline)).rejects.toMatchObject({ kind: "offline" });
    server.treePageSize = 1000;
  });

  it("gives calibration samples from a text column or from instruction columns", async () => {
    expect(await readCalibrationDataset("hf:test-org/texts", env)).toEqual([{ prompt: "one two" }, { prompt: "three" }]);
    expect(await readCalibrationDataset("hf:test-org/alpaca-mini", env)).toEqual([
      { prompt: "Name a colour.", response: "Blue." },
      { prompt: "Add the numbers.\n\n2 and 3", response: "5" },
    ]);
  });

  it("prunelab analyze takes --calib hf:…", async () => {
    const folder = writeTinyChatFolder();
    const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE };
    process.env.HF_ENDPOINT = server.endpoint;
    process.env.HF_HUB_CACHE = cacheDir;
    try {
      const r = await runCliCaptured(["analyze", "--model", folder, "--calib", "hf:test-org/texts", "--json"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ layers: 2, numSamples: 2 });
      const missing = await runCliCaptured(["analyze", "--model", folder, "--calib", "hf:test-org/no-such-data", "--json"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/test-org\/no-such-data .*was not found \(HTTP 404/);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
