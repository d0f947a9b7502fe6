import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mergeWeights } from "../../src/merge/slerp";
import { toFloat32 } from "../../src/model/host-tensor";
import type { LoadedModel } from "../../src/model/load-model-files";
import { loadModelFromPath } from "../../src/model/load-model-path";
import { randomLlama } from "../../src/model/random-llama";
import { hfFolderFiles } from "../../src/prune/hf-folder-export";
import { runCliCaptured } from "../cli/cli-harness";
import { tinyChatWeights } from "../eval/tiny-chat-llama";
import { chatMlTokenizerFiles } from "../model/tokenizer-fixtures";

const cli = (...argv: string[]) => runCliCaptured(argv);

const dir = mkdtempSync(join(tmpdir(), "prunelab-merge-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function values(model: LoadedModel, name: string): number[] {
  const t = model.weights.tensors.get(name);
  if (!t) throw new Error(`${model.source} has no ${name}`);
  return Array.from(toFloat32(t));
}

function writeFolder(name: string, seed: number, layers = tinyChatWeights.config.numHiddenLayers): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  const weights = randomLlama({ ...tinyChatWeights.config, numHiddenLayers: layers }, seed);
  for (const [file, bytes] of hfFolderFiles(weights, chatMlTokenizerFiles())) writeFileSync(join(folder, file), bytes);
  return folder;
}

describe("prunelab merge", () => {
  const a = writeFolder("a", 1);
  const b = writeFolder("b", 2);

  it("writes a Hugging Face folder whose weights are the SLERP of a and b, with a's config and tokenizer", async () => {
    const out = join(dir, "merged");
    const r = await cli("merge", "--a", a, "--b", b, "--t", "0.3", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      "config.json",
      "generation_config.json",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    const [loadedA, loadedB, merged] = await Promise.all([a, b, out].map((p) => loadModelFromPath(p)));
    expect(merged.weights.config).toEqual(loadedA.weights.config);
    const expected = mergeWeights(loadedA.weights, loadedB.weights, 0.3);
    expect([...merged.weights.tensors.keys()].sort()).toEqual([...expected.tensors.keys()].sort());
    for (const [name, t] of expected.tensors) expect(values(merged, name), name).toEqual(Array.from(toFloat32(t)));
    expect(values(merged, "model.norm.weight")).not.toEqual(values(loadedA, "model.norm.weight"));
  });

  it("takes mergekit's per-filter gradient as JSON", async () => {
    const out = join(dir, "merged-gradient");
    const t = '[{"filter":"self_attn","value":0},{"filter":"mlp","value":1},{"value":0.5}]';
    const r = await cli("merge", "--a", a, "--b", b, "--t", t, "--out", out);
    expect(r.code).toBe(0);
    const [loadedA, loadedB, merged] = await Promise.all([a, b, out].map((p) => loadModelFromPath(p)));
    expect(values(merged, "model.layers.1.self_attn.o_proj.weight")).toEqual(values(loadedA, "model.layers.1.self_attn.o_proj.weight"));
    expect(values(merged, "model.layers.0.mlp.up_proj.weight")).toEqual(values(loadedB, "model.layers.0.mlp.up_proj.weight"));
  });

  it.each([
    [["merge", "--a", "x", "--b", "y", "--out", "z"], /--t is required/],
    [["merge", "--a", "x", "--b", "y", "--t", "half", "--out", "z"], /--t must be a number, got 'half'/],
    [["merge", "--a", "x", "--b", "y", "--t", '[{"value":"a"}]', "--out", "z"], /--t: t\[0\].value must be a number/],
    [["merge", "--a", "x", "--b", "y", "--t", "0.5", "--out", "z", "--method", "lerp"], /Unknown option '--method'/],
  ])("%j is a usage error on one line, exit 2", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("refuses models of different architectures", async () => {
    const deeper = writeFolder("deeper", 3, 3);
    const r = await cli("merge", "--a", a, "--b", deeper, "--t", "0.5", "--out", join(dir, "never"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mergeWeights: the models' architectures differ: a has numHiddenLayers 2; b has numHiddenLayers 3/);
  });

  it("is listed in --help", async () => {
    expect((await cli("--help")).stdout).toMatch(/prunelab merge --a DIR --b DIR --t T --out DIR/);
  });
});
