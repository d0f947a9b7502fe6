/**
 * Every file parser of the project as a fuzz target: the valid files it is seeded with (the demo
 * model's files in public/models/demo, fixtures built here as the format tests build them, and
 * ../shared/models/stories260K read in place when present) and the call a user's file goes through.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseAlpacaJsonl } from "../../src/distill/alpaca-jsonl";
import { DatasetFormatError } from "../../src/jsonl-objects";
import {
  ConfigError,
  MissingModelFileError,
  ModelFormatError,
  NonFiniteWeightError,
  TensorShapeError,
  UnsupportedDtypeError,
} from "../../src/model/errors";
import { type GgufMetadataEntry, modelWeightsToGguf } from "../../src/model/gguf";
import { readLlama2cCheckpoint } from "../../src/model/llama2c";
import { llama2cTokenizerToHf, readLlama2cTokenizer } from "../../src/model/llama2c-tokenizer";
import { loadModelFiles } from "../../src/model/load-model-files";
import { randomLlama } from "../../src/model/random-llama";
import { readSafetensors, writeSafetensors } from "../../src/model/safetensors";
import { loadTokenizer, TokenizerError } from "../../src/model/tokenizer";
import { calibrationFromJsonl } from "../../src/prune/calibration";
import { mulberry32 } from "../../src/seeded-random";
import {
  CheckpointError,
  checkpointDigest,
  checksumKey,
  decodeCheckpoint,
  encodeCheckpoint,
  stateKey,
} from "../../src/train/checkpoint-file";
import { type TrainCheckpoint, trainDefaults } from "../../src/train/train-loop";
import { tinyLlamaShape } from "../model/tiny-llama";

export interface SeedFile {
  file: string;
  bytes: Uint8Array;
}

export interface ParserTarget {
  name: string;
  seeds: SeedFile[];
  /** Parses a (mutated) seed file as a user's file of that name goes through the project. */
  parse: (bytes: Uint8Array, file: string) => unknown;
  /** The file names an error about `file` may name (a config and its weights are checked against each other); default: the file's own. */
  named?: (file: string) => string[];
}

/** The project's typed errors: each names the file (and the field, tensor or line) it is about. */
export const typedErrors = [
  ModelFormatError,
  ConfigError,
  UnsupportedDtypeError,
  TensorShapeError,
  MissingModelFileError,
  NonFiniteWeightError,
  TokenizerError,
  DatasetFormatError,
  CheckpointError,
];

const root = resolve(import.meta.dirname, "../..");
const demoDir = resolve(root, "public/models/demo");
const storiesDir = resolve(root, "../shared/models/stories260K");
const demo = (name: string) => new Uint8Array(readFileSync(resolve(demoDir, name)));
const stories = (name: string): SeedFile[] =>
  existsSync(resolve(storiesDir, name)) ? [{ file: name, bytes: new Uint8Array(readFileSync(resolve(storiesDir, name))) }] : [];
const text = (s: string) => new TextEncoder().encode(s);

/** A tiny random Llama, small enough that a mutation lands in its header or tables often. */
const tiny = randomLlama(tinyLlamaShape, 5);

function tinySafetensors(): Uint8Array {
  return writeSafetensors(tiny.tensors, { format: "pt" });
}

function tinyConfigJson(): Uint8Array {
  const c = tiny.config;
  return text(
    JSON.stringify({
      model_type: "llama",
      hidden_size: c.hiddenSize,
      intermediate_size: c.intermediateSize,
      num_hidden_layers: c.numHiddenLayers,
      num_attention_heads: c.numAttentionHeads,
      num_key_value_heads: c.numKeyValueHeads,
      rms_norm_eps: c.rmsNormEps,
      rope_theta: c.ropeTheta,
      vocab_size: c.vocabSize,
      max_position_embeddings: c.maxPositionEmbeddings,
      tie_word_embeddings: c.tieWordEmbeddings,
      bos_token_id: 1,
      eos_token_id: [2],
      rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 },
    }),
  );
}

/** A SentencePiece vocabulary as GGUF metadata (<unk>, <s>, </s>, 256 byte pieces, a few merges), sized to the tiny model. */
function spmMetadata(vocab: number): GgufMetadataEntry[] {
  const bytePieces = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const pieces = ["<unk>", "<s>", "</s>", ...bytePieces, "▁", "a", "▁a"].slice(0, Math.max(vocab, 262));
  return [
    { key: "tokenizer.ggml.model", type: "string", value: "llama" },
    { key: "tokenizer.ggml.tokens", type: "string[]", value: pieces },
    { key: "tokenizer.ggml.scores", type: "f32[]", value: pieces.map((_, i) => -i) },
    { key: "tokenizer.ggml.token_type", type: "i32[]", value: pieces.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1)) },
  ];
}

function tinyGguf(type: "F32" | "F16" | "Q8_0"): Uint8Array {
  if (type !== "Q8_0") return modelWeightsToGguf(tiny, type);
  // Q8_0 blocks need rows of a multiple of 32 values.
  const wide = randomLlama(
    { ...tinyLlamaShape, hiddenSize: 32, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64, vocabSize: 262 },
    6,
  );
  return modelWeightsToGguf(wide, type, spmMetadata(262));
}

/** A legacy-v0 llama2.c checkpoint of random floats: dim 8, hidden 12, 2 layers, 4/2 heads, vocab 10 (untied), seq_len 3. */
function tinyLlama2c(): Uint8Array {
  const header = [8, 12, 2, 4, 2, -10, 3];
  const floats = 10 * 8 + 2 * 8 + 2 * 64 + 2 * 32 + 2 * 32 + 2 * 64 + 2 * 8 + 2 * 96 * 3 + 8 + 3 * 1 * 2 + 10 * 8;
  const bytes = new Uint8Array(28 + floats * 4);
  const v = new DataView(bytes.buffer);
  for (const [i, x] of header.entries()) v.setInt32(i * 4, x, true);
  const random = mulberry32(9);
  for (let i = 0; i < floats; i++) v.setFloat32(28 + i * 4, random() - 0.5, true);
  return bytes;
}

/** A llama2.c tokenizer.bin of 262 pieces (<unk>, <s>, </s>, 256 bytes, three merges). */
function tinyTokenizerBin(): Uint8Array {
  const pieces = [
    "<unk>",
    "\n<s>\n",
    "\n</s>\n",
    ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`),
    " ",
    "a",
    " a",
  ];
  const encoded = pieces.map((p) => text(p));
  const out = new Uint8Array(4 + encoded.reduce((n, p) => n + 8 + p.length, 0));
  const v = new DataView(out.buffer);
  v.setInt32(0, 8, true);
  let at = 4;
  for (const [i, p] of encoded.entries()) {
    v.setFloat32(at, -i, true);
    v.setInt32(at + 4, p.length, true);
    out.set(p, at + 8);
    at += 8 + p.length;
  }
  return out;
}

/** A LoRA run's checkpoint after 3 steps, as trainModel hands it over (random tensors, a skipped step in the history). */
function tinyCheckpoint(): Uint8Array {
  const random = mulberry32(11);
  const tensor = (shape: number[]) => ({
    dtype: "f32" as const,
    shape,
    data: Float32Array.from({ length: shape[0] * shape[1] }, () => random() - 0.5),
  });
  const names = [
    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
    "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
  ];
  const shapes = [
    [4, 24],
    [24, 4],
  ];
  const group = () => Object.fromEntries(names.map((n, i) => [n, tensor(shapes[i])]));
  const checkpoint: TrainCheckpoint = {
    format: "prunelab.train-checkpoint",
    version: 1,
    config: { ...trainDefaults, mode: "lora", lora: { rank: 4, alpha: 8, dropout: 0.05, modules: ["q"] }, steps: 6, checkpointEvery: 3 },
    step: 3,
    adamSteps: 2,
    rng: { seed: 1, step: 3 },
    parameters: group(),
    adam: { m: group(), v: group() },
    history: [1, 2, 3].map((step) => ({
      step,
      loss: step === 2 ? Number.NaN : 3 - step / 10,
      gradNorm: step === 2 ? Number.NaN : 0.5,
      lr: 1e-3,
      countedTokens: 40,
      tokens: 60,
      elapsedMs: 12,
      ...(step === 2 ? { skipped: "non-finite loss" as const } : {}),
    })),
  };
  return encodeCheckpoint(checkpoint);
}

/** The file with its checksum recomputed over whatever it now holds (unchanged when it no longer parses as safetensors). */
function resealed(bytes: Uint8Array): Uint8Array {
  let contents: ReturnType<typeof readSafetensors>;
  try {
    contents = readSafetensors(bytes, "checkpoint.safetensors");
  } catch {
    return bytes;
  }
  const state = contents.metadata[stateKey];
  if (state === undefined) return bytes;
  return writeSafetensors(contents.tensors, { ...contents.metadata, [checksumKey]: checkpointDigest(state, contents.tensors) });
}

const alpacaSeed = [
  { instruction: "Name the capital of Eldmoor.", input: "", output: "The capital of Eldmoor is Varn." },
  { instruction: "Add the numbers.", input: "3 + 4", output: "3 + 4 = 7. The answer is 7." },
  { instruction: "Translate «día»", input: "", output: "day — ünïcödé 日本 🙂" },
]
  .map((r) => `${JSON.stringify(r)}\n`)
  .join("");
const calibrationSeed = '{"text": "Once upon a time, 42 owls met."}\n\n{"instruction": "Count to 3", "output": "1 2 3"}\r\n';

export function parserTargets(): ParserTarget[] {
  const demoConfig = demo("config.json");
  const demoWeights = demo("model.safetensors");
  const tinyWeights = tinySafetensors();
  const tinyConfig = tinyConfigJson();
  const loadFolder = (files: [string, Uint8Array][]) => loadModelFiles(new Map(files), { requireTokenizer: false });
  const demoTokenizerConfig = new TextDecoder().decode(demo("tokenizer_config.json"));
  return [
    {
      name: "safetensors",
      named: () => ["config.json", "model.safetensors"],
      seeds: [
        { file: "model.safetensors", bytes: tinyWeights },
        { file: "demo/model.safetensors", bytes: demoWeights },
      ],
      parse: (bytes, file) =>
        file.startsWith("demo/")
          ? loadFolder([
              ["config.json", demoConfig],
              ["model.safetensors", bytes],
            ])
          : loadFolder([
              ["config.json", tinyConfig],
              ["model.safetensors", bytes],
            ]),
    },
    {
      name: "GGUF",
      seeds: [
        { file: "model-f32.gguf", bytes: tinyGguf("F32") },
        { file: "model-f16.gguf", bytes: tinyGguf("F16") },
        { file: "model-q8_0.gguf", bytes: tinyGguf("Q8_0") },
      ],
      parse: (bytes, file) => loadFolder([[file, bytes]]),
    },
    {
      name: "llama2.c .bin",
      seeds: [{ file: "tiny.bin", bytes: tinyLlama2c() }, ...stories("stories260K.bin")],
      parse: (bytes, file) => readLlama2cCheckpoint(bytes, file),
    },
    {
      name: "llama2.c tokenizer.bin",
      seeds: [{ file: "tokenizer.bin", bytes: tinyTokenizerBin() }, ...stories("tok512.bin")],
      parse: (bytes, file) => llama2cTokenizerToHf(readLlama2cTokenizer(bytes, file, file === "tok512.bin" ? 512 : 262), 256),
    },
    {
      name: "tokenizer.json",
      seeds: [{ file: "tokenizer.json", bytes: demo("tokenizer.json") }],
      parse: (bytes) =>
        loadTokenizer("demo", async (name) => {
          if (name === "tokenizer.json") return new TextDecoder().decode(bytes);
          return name === "tokenizer_config.json" ? demoTokenizerConfig : null;
        }),
    },
    {
      name: "config.json",
      named: () => ["config.json", "model.safetensors"],
      seeds: [
        { file: "config.json", bytes: tinyConfig },
        { file: "demo/config.json", bytes: demoConfig },
      ],
      parse: (bytes, file) =>
        loadFolder([
          ["config.json", bytes],
          ["model.safetensors", file.startsWith("demo/") ? demoWeights : tinyWeights],
        ]),
    },
    {
      name: "JSONL (Alpaca, calibration)",
      seeds: [
        { file: "data.jsonl", bytes: text(alpacaSeed) },
        { file: "calib.jsonl", bytes: text(calibrationSeed) },
      ],
      parse: (bytes, file) => (file === "data.jsonl" ? parseAlpacaJsonl(bytes, file) : calibrationFromJsonl(bytes, file)),
    },
    {
      name: "training checkpoint",
      seeds: [{ file: "checkpoint.safetensors", bytes: tinyCheckpoint() }],
      parse: (bytes, file) => decodeCheckpoint(bytes, file),
    },
    {
      // The checksum catches nearly every mutation above; here it is recomputed after mutating, so the
      // state's and tensors' own checks (what a buggy writer could produce) are what is tested.
      name: "training checkpoint, re-checksummed",
      seeds: [{ file: "checkpoint.safetensors", bytes: tinyCheckpoint() }],
      parse: (bytes, file) => decodeCheckpoint(resealed(bytes), file),
    },
  ];
}
