import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { afterAll, describe, expect, it } from "vitest";
import { toHfConfig } from "../../src/model/config";
import { MissingModelFileError, ModelFormatError, TensorShapeError } from "../../src/model/errors";
import { modelWeightsToGguf } from "../../src/model/gguf";
import type { ModelWeights } from "../../src/model/host-tensor";
import { llamaCpu, llamaForwardCpu } from "../../src/model/llama-cpu";
import { loadModelFiles, type ModelFileMap } from "../../src/model/load-model-files";
import { loadModelFromPath } from "../../src/model/load-model-path";
import { randomLlama } from "../../src/model/random-llama";
import { withRopeLayout } from "../../src/model/rope-layout";
import { writeSafetensors } from "../../src/model/safetensors";
import { SHARD_INDEX_FILE, writeShardedSafetensors } from "../../src/model/sharded";
import { expectClose } from "../numerics";
import { hasStories260k, stories260kDir } from "./stories260k-files";
import { tinyLlamaShape } from "./tiny-llama";

const encodeJson = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const tokenizerJson = { model: { type: "BPE", vocab: { a: 0 }, merges: [] } };

function hfFolder(weights: ModelWeights): ModelFileMap {
  return new Map<string, Uint8Array | Blob>([
    ["config.json", encodeJson(toHfConfig(weights.config))],
    ["model.safetensors", writeSafetensors(weights.tensors, { format: "pt" })],
    ["tokenizer.json", encodeJson(tokenizerJson)],
    ["tokenizer_config.json", encodeJson({ bos_token: "<s>" })],
  ]);
}

describe("loadModelFiles", () => {
  const weights = randomLlama(tinyLlamaShape);

  it("loads a Hugging Face folder, with folder prefixes on the names (a dropped directory)", async () => {
    const files = new Map([...hfFolder(weights)].map(([n, c]) => [`my-model/${n}`, c]));
    const model = await loadModelFiles(files);
    expect(model.format).toBe("safetensors");
    expect(model.source).toBe("model.safetensors");
    expect(model.weights).toEqual(weights);
    expect(model.tokenizerJson).toEqual(tokenizerJson);
    expect(model.tokenizerConfig).toEqual({ bos_token: "<s>" });
  });

  it("loads a sharded folder through its index, from Blobs", async () => {
    const { index, shards } = writeShardedSafetensors(weights.tensors, 6000);
    const files: ModelFileMap = new Map([...hfFolder(weights)].filter(([n]) => n !== "model.safetensors"));
    files.set(SHARD_INDEX_FILE, new Blob([JSON.stringify(index)]));
    for (const [name, bytes] of shards) files.set(name, new Blob([bytes as Uint8Array<ArrayBuffer>]));
    const model = await loadModelFiles(files);
    expect(model.source).toBe(SHARD_INDEX_FILE);
    expect(model.weights).toEqual(weights);
    files.delete([...shards.keys()][1]);
    await expect(loadModelFiles(files)).rejects.toThrow(MissingModelFileError);
    await expect(loadModelFiles(files)).rejects.toThrow(
      /missing model-00002-of-\d+\.safetensors: model\.safetensors\.index\.json lists it as a shard/,
    );
  });

  it("loads a GGUF with a tokenizer.json beside it, and names the missing tokenizer otherwise", async () => {
    const gguf = modelWeightsToGguf(weights, "F32");
    const model = await loadModelFiles(
      new Map([
        ["m.gguf", gguf],
        ["tokenizer.json", encodeJson(tokenizerJson)],
      ]),
    );
    expect(model.format).toBe("gguf");
    expect(model.weights.tensors).toEqual(weights.tensors);
    await expect(loadModelFiles(new Map([["m.gguf", gguf]]))).rejects.toThrow(MissingModelFileError);
    await expect(loadModelFiles(new Map([["m.gguf", gguf]]))).rejects.toThrow(
      /missing tokenizer\.json: m\.gguf has no tokenizer .*only SentencePiece and byte-level .* tokenizers embedded in GGUF are converted/,
    );
    expect((await loadModelFiles(new Map([["m.gguf", gguf]]), { requireTokenizer: false })).tokenizerJson).toBeUndefined();
  });

  it("names what is missing or wrong: config.json, weights, a choice between weight files, a shape", async () => {
    const noConfig = hfFolder(weights);
    noConfig.delete("config.json");
    await expect(loadModelFiles(noConfig)).rejects.toThrow(
      /missing config\.json: model\.safetensors needs the model's config\.json next to it/,
    );
    await expect(loadModelFiles(new Map([["README.md", new Uint8Array()]]))).rejects.toThrow(
      /missing model weights: none of README\.md is a \.safetensors, \.gguf or llama2\.c \.bin file/,
    );
    const two = new Map([
      ["a.gguf", new Uint8Array()],
      ["b.gguf", new Uint8Array()],
    ]);
    await expect(loadModelFiles(two)).rejects.toThrow(ModelFormatError);
    await expect(loadModelFiles(two)).rejects.toThrow(/a\.gguf, b\.gguf: several weight files/);
    const wrongConfig = hfFolder(weights);
    wrongConfig.set("config.json", encodeJson(toHfConfig({ ...weights.config, intermediateSize: 41 })));
    await expect(loadModelFiles(wrongConfig)).rejects.toThrow(TensorShapeError);
    await expect(loadModelFiles(wrongConfig)).rejects.toThrow(
      /model\.safetensors: tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[40,24\], but the config expects \[41,24\]/,
    );
    const noTokenizer = hfFolder(weights);
    noTokenizer.delete("tokenizer.json");
    await expect(loadModelFiles(noTokenizer)).rejects.toThrow(
      /missing tokenizer\.json: model\.safetensors has no tokenizer among the given files/,
    );
  });
});

describe("loadModelFromPath (Node)", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("loads a folder, a file in it, and takes a tokenizer from elsewhere", async () => {
    const weights = randomLlama(tinyLlamaShape, 3);
    const root = await mkdtemp(join(tmpdir(), "prunelab-formats-"));
    dirs.push(root);
    const folder = join(root, "model");
    await mkdir(folder);
    for (const [name, contents] of hfFolder(weights))
      if (name !== "tokenizer.json") await writeFile(join(folder, name), contents as Uint8Array);
    await writeFile(join(root, "tok.json"), JSON.stringify(tokenizerJson));
    await expect(loadModelFromPath(folder)).rejects.toThrow(/missing tokenizer\.json/);
    expect((await loadModelFromPath(folder, { tokenizer: join(root, "tok.json") })).tokenizerJson).toEqual(tokenizerJson);
    const byFile = await loadModelFromPath(join(folder, "model.safetensors"), { requireTokenizer: false });
    expect(byFile.weights).toEqual(weights);
    await expect(loadModelFromPath(join(root, "nope"))).rejects.toThrow(/missing .*nope: no such file or folder/);
  });

  it.skipIf(!hasStories260k)("loads stories260K.bin with tok512.bin found beside it, as a working tokenizer", async () => {
    const model = await loadModelFromPath(resolve(stories260kDir, "stories260K.bin"));
    expect(model.format).toBe("llama2c");
    expect(model.weights.config.ropeInterleaved).toBe(true);
    const tokenizer = new Tokenizer(model.tokenizerJson as object, model.tokenizerConfig as object);
    expect(tokenizer.encode("Once upon a time").ids).toEqual([1, 403, 407, 261, 378]);
    const alone = new Map([["stories260K.bin", await readFile(resolve(stories260kDir, "stories260K.bin"))]]);
    await expect(loadModelFiles(alone)).rejects.toThrow(MissingModelFileError);
    await expect(loadModelFiles(alone)).rejects.toThrow(
      /missing tokenizer\.bin: stories260K\.bin has no tokenizer among the given files \(stories260K\.bin\)/,
    );
  });

  it.skipIf(!hasStories260k)("stories260K gives the same logits from llama2.c, HF safetensors (rotate_half) and GGUF (F32)", async () => {
    const original = (await loadModelFromPath(resolve(stories260kDir, "stories260K.bin"))).weights;
    const hf = withRopeLayout(original, false);
    const fromSafetensors = (await loadModelFiles(hfFolder(hf))).weights;
    const fromGguf = (await loadModelFiles(new Map([["s.gguf", modelWeightsToGguf(original, "F32")]]), { requireTokenizer: false }))
      .weights;
    const tokens = [1, 403, 407, 261, 378, 11, 300];
    const logits = (w: ModelWeights) => llamaForwardCpu(llamaCpu(w), tokens).logits;
    const reference = logits(original);
    // Same weights, same float64 sums in the same order except RoPE's pairing: only rounding differs.
    expectClose(logits(fromSafetensors), reference, 1e-5, 1e-5, "safetensors logits");
    expectClose(logits(fromGguf), reference, 1e-5, 1e-5, "GGUF logits");
    // Not vacuous: the HF weights run with the interleaved convention give other logits.
    const mislabeled = logits({ config: { ...hf.config, ropeInterleaved: true }, tensors: hf.tensors });
    expect(mislabeled.some((v, i) => Math.abs(v - reference[i]) > 1e-2)).toBe(true);
  });
});
