/**
 * The recipe as files: every Python script compiles with python3, every YAML parses (its numbers
 * written so PyYAML reads them as numbers too), every JSON parses, the shell scripts pass
 * `bash -n`, the settings are the experiment's, the cost estimates follow the target model, and the
 * committed example (docs/recipe-demo) is what `prunelab recipe` writes today.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseDocument, visit } from "yaml";
import { sdftTemplates } from "../../src/distill/sdft-template";
import { buildRecipe, carryBlock } from "../../src/export/recipe/build-recipe";
import { assumedGpu, estimateSteps } from "../../src/export/recipe/estimates";
import { knownModelConfig } from "../../src/export/recipe/known-models";
import { openLlmV1Tasks } from "../../src/export/recipe/openllm-tasks";
import { configFromCard, experimentModelRef } from "../../src/export/recipe/recipe-model";
import { fillPlaceholders, RecipeError, setYamlValues } from "../../src/export/recipe/template-text";
import { accountModel } from "../../src/prune/accounting";
import type { ModelCard } from "../../src/worker/protocol";
import { runCliCaptured } from "../cli/cli-harness";
import { demoExperiment, demoManifest, demoRecipe, demoRecipeInput, writeRecipe } from "./recipe-harness";

/** PyYAML's implicit int and float resolvers (yaml/resolver.py), decimal forms. */
const pyyamlNumber = /^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?)$/;

const byPath = (files: { path: string; text: string }[]) => Object.fromEntries(files.map((f) => [f.path, f.text]));

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** Every file of a recipe checked by its kind; returns how many of each were checked. */
function checkFiles(files: { path: string; text: string }[]): Record<string, number> {
  const dir = writeRecipe(files);
  const py = files.filter((f) => f.path.endsWith(".py")).map((f) => f.path);
  execFileSync("python3", ["-m", "py_compile", ...py], { cwd: dir });
  const yamls = files.filter((f) => f.path.endsWith(".yaml"));
  for (const f of yamls) {
    const doc = parseDocument(f.text, { prettyErrors: true });
    expect(doc.errors, f.path).toEqual([]);
    // PyYAML, which train.py reads its config with, resolves plain numbers by YAML 1.1's patterns: "1e-8" would be a string.
    visit(doc, {
      Scalar(_, node) {
        if (node.type === "PLAIN" && typeof node.value === "number") expect(node.source, `${f.path}: ${node.source}`).toMatch(pyyamlNumber);
      },
    });
  }
  const jsons = files.filter((f) => f.path.endsWith(".json") || f.path.endsWith(".jsonl"));
  for (const f of jsons) {
    const lines = f.path.endsWith(".jsonl") ? f.text.split("\n").filter((l) => l !== "") : [f.text];
    for (const line of lines) expect(() => JSON.parse(line), f.path).not.toThrow();
  }
  const shells = files.filter((f) => f.path.endsWith(".sh") || f.path.endsWith(".sbatch"));
  for (const f of shells) execFileSync("bash", ["-n", join(dir, f.path)]);
  for (const f of files) expect(f.text, `${f.path} keeps a placeholder`).not.toMatch(/\{\{\w+\}\}/);
  return { py: py.length, yaml: yamls.length, json: jsons.length, shell: shells.length };
}

describe("prunelab recipe", () => {
  it("writes every step's file for the demo model, all of them compiling or parsing", () => {
    const files = demoRecipe();
    expect(files.map((f) => f.path).sort()).toEqual(
      [
        "README.md",
        "requirements.txt",
        "manifest.json",
        "recipe.json",
        "sdft.py",
        "analyze_layers.py",
        "distill.py",
        "train.py",
        "fold_adapter.py",
        "recovery_table.py",
        "speculate.py",
        "prune/slice.yaml",
        "train/sft.yaml",
        "train/sdd.yaml",
        "accelerate/fsdp.yaml",
        "accelerate/deepspeed_zero3.yaml",
        "slurm/train.sbatch",
        "eval/run_lm_eval.sh",
        "merge/slerp.yaml",
        "data/calibration.jsonl",
        "data/demo-train.jsonl",
      ].sort(),
    );
    expect(checkFiles(files)).toEqual({ py: 7, yaml: 6, json: 4, shell: 2 });
  });

  it("carries the experiment's settings into the scripts' configs", () => {
    const experiment = demoExperiment();
    const files = byPath(buildRecipe(demoRecipeInput(demoManifest(experiment))));
    const recipe = JSON.parse(files["recipe.json"]);
    expect(recipe.prune).toEqual({ block: { start: 8, count: 2 }, provisional: false });
    expect(recipe.distill.template).toEqual(sdftTemplates.general);
    expect(recipe.distill.sampling).toEqual({ temperature: 0.95, top_p: 0.7, max_tokens: experiment.distill.maxNewTokens, seed: 1 });
    expect(recipe.evaluate.tasks.map((t: { task: string; fewShot: number }) => `${t.task}:${t.fewShot}`)).toEqual([
      "arc_challenge:25",
      "hellaswag:10",
      "mmlu:5",
      "truthfulqa_mc2:0",
      "winogrande:5",
      "gsm8k:5",
    ]);
    expect(recipe.evaluate.models.map((m: { label: string }) => m.label)).toEqual([
      "original",
      "pruned",
      "pruned + SFT",
      "pruned + SDD",
      "pruned + SLERP(SFT, SDD) t = 0.5",
    ]);
    const sft = parse(files["train/sft.yaml"]);
    const sdd = parse(files["train/sdd.yaml"]);
    expect(sft.lora).toEqual({
      r: 8,
      lora_alpha: 16,
      lora_dropout: 0.05,
      target_modules: ["q_proj", "k_proj", "v_proj", "o_proj"],
      bias: "none",
      task_type: "CAUSAL_LM",
    });
    expect(sft.sft).toMatchObject({
      max_steps: 20,
      learning_rate: 2e-4,
      seed: 1,
      max_length: 256,
      per_device_train_batch_size: 8,
      completion_only_loss: true,
    });
    expect({ ...sdd.sft, output_dir: "" }).toEqual({ ...sft.sft, output_dir: "" });
    expect([sft.data, sdd.data]).toEqual(["data/demo-train.jsonl", "data/self-distilled.jsonl"]);
    expect(parse(files["prune/slice.yaml"]).slices.map((s: { sources: { layer_range: number[] }[] }) => s.sources[0].layer_range)).toEqual([
      [0, 8],
      [10, 12],
    ]);
    expect(parse(files["merge/slerp.yaml"])).toMatchObject({ merge_method: "slerp", parameters: { t: 0.5 } });
    expect(files["data/demo-train.jsonl"].trim().split("\n")).toHaveLength(experiment.distill.count);
    expect(files["data/calibration.jsonl"].trim().split("\n")).toHaveLength(experiment.calibration.samples);
  });

  it("scales a block to a deeper model and marks it provisional; a math experiment gets the math filter", () => {
    expect(carryBlock({ start: 8, count: 2 }, 12, 12)).toEqual({ start: 8, count: 2, provisional: false });
    expect(carryBlock({ start: 8, count: 2 }, 12, 32)).toEqual({ start: 21, count: 5, provisional: true });
    expect(carryBlock({ start: 0, count: 0 }, 12, 32)).toEqual({ start: 25, count: 6, provisional: true });
    const experiment = demoExperiment();
    experiment.distill.dataset = "demo-math";
    const recipe = JSON.parse(byPath(buildRecipe(demoRecipeInput(demoManifest(experiment))))["recipe.json"]);
    expect(recipe.distill.rules.kind).toBe("math");
    expect(recipe.distill.template.responseOpener).toBe(sdftTemplates.math.responseOpener);
  });

  it("writes a multi-node recipe for Llama-3.1-8B whose files check and whose estimates follow the model", () => {
    const config = knownModelConfig("meta-llama/Llama-3.1-8B-Instruct");
    if (!config) throw new Error("no known config");
    // The transcribed shapes give the published parameter counts.
    expect(accountModel(config).parameters).toBe(8_030_261_248);
    expect(accountModel(knownModelConfig("meta-llama/Llama-3.2-1B-Instruct") ?? config).parameters).toBe(1_235_814_400);
    expect(accountModel(knownModelConfig("HuggingFaceTB/SmolLM2-135M-Instruct") ?? config).parameters).toBe(134_515_008);
    const input = { ...demoRecipeInput(), model: "meta-llama/Llama-3.1-8B-Instruct", config, gpusPerNode: 8, nodes: 2 };
    const files = buildRecipe(input);
    checkFiles(files);
    const byName = byPath(files);
    expect(parse(byName["accelerate/fsdp.yaml"])).toMatchObject({ num_machines: 2, num_processes: 16, distributed_type: "FSDP" });
    expect(parse(byName["accelerate/deepspeed_zero3.yaml"])).toMatchObject({
      num_machines: 2,
      num_processes: 16,
      deepspeed_config: { zero_stage: 3 },
    });
    expect(byName["slurm/train.sbatch"]).toContain("#SBATCH --nodes=2");
    expect(byName["README.md"]).toContain("**The block is provisional**");
    expect(byName["README.md"]).toContain("--machine_rank $NODE_RANK");
    const smallInput = {
      experiment: demoExperiment(),
      gpusPerNode: 8,
      nodes: 2,
      examples: 10_000,
      tasks: openLlmV1Tasks,
      evaluatedModels: 5,
    };
    const estimates = estimateSteps({ ...smallInput, config, block: { start: 21, count: 5 } }, ["q", "k", "v", "o"]);
    const step = (name: string) => estimates.find((e) => e.step === name) ?? estimates[0];
    // One replica of the bf16 weights per analysis process; training shards them over 16 GPUs.
    expect(step("analyze").peakBytesPerGpu).toBeGreaterThan(accountModel(config).bytes);
    expect(step("train SDD").peakBytesPerGpu).toBeLessThan(assumedGpu.memoryBytes);
    expect(step("distill").peakBytesPerGpu).toBeLessThan(step("analyze").peakBytesPerGpu);
    for (const e of estimates) expect(Number.isFinite(e.gpuHours) && e.gpuHours >= 0, e.step).toBe(true);
    // Costs grow with the model: the same experiment on the demo model is cheaper at every GPU step.
    const small = estimateSteps({ ...smallInput, config: demoRecipeInput().config, block: { start: 8, count: 2 } }, ["q", "k", "v", "o"]);
    small.forEach((e, i) => {
      if (e.gpus > 0) expect(e.gpuHours, e.step).toBeLessThan(estimates[i].gpuHours);
    });
  });

  it("names the file and field of what it cannot do", () => {
    expect(() => buildRecipe({ ...demoRecipeInput(), gpusPerNode: 0 })).toThrow(/gpus must be an integer ≥ 1, got 0/);
    expect(() => setYamlValues("a: 1\n", "t.yaml", { b: 2 })).toThrow(new RecipeError('t.yaml: expected one "b:" line, found 0'));
    expect(() => fillPlaceholders("x {{a}} {{b}}", "t.sh", { a: 1 })).toThrow(/t.sh: no value for \{\{b\}\}/);
    expect(() => fillPlaceholders("x", "t.sh", { a: 1 })).toThrow(/t.sh: has no \{\{a\}\} placeholder/);
  });

  it("regenerates docs/recipe-demo exactly from its manifest", async () => {
    const out = mkdtempSync(join(tmpdir(), "prunelab-recipe-cli-"));
    const run = await runCliCaptured(["recipe", "--manifest", "docs/recipe-demo/manifest.json", "--out", out, "--gpus", "1"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const committed = listFiles("docs/recipe-demo")
      .map((p) => relative("docs/recipe-demo", p))
      .sort();
    expect(
      listFiles(out)
        .map((p) => relative(out, p))
        .sort(),
    ).toEqual(committed);
    for (const path of committed)
      expect(readFileSync(join(out, path), "utf8"), path).toBe(readFileSync(join("docs/recipe-demo", path), "utf8"));
  });

  it("builds in the browser, from the model's card, the recipe the CLI writes", () => {
    const config = demoRecipeInput().config;
    const card = (layers: number, tied: boolean): ModelCard => ({
      name: "demo",
      format: "Hugging Face folder",
      architecture: "llama",
      parameters: accountModel({ ...config, numHiddenLayers: layers, tieWordEmbeddings: tied }).parameters,
      weightBytes: 0,
      layers,
      hiddenSize: config.hiddenSize,
      intermediateSize: config.intermediateSize,
      heads: config.numAttentionHeads,
      kvHeads: config.numKeyValueHeads,
      headDim: config.headDim,
      vocabSize: config.vocabSize,
      contextLength: config.maxPositionEmbeddings,
      dtypes: ["f16"],
      hasChatTemplate: true,
    });
    // A pruned model's card (10 of 12 blocks) still gives the full model's shape.
    expect(configFromCard(card(10, true), 12)).toMatchObject({ numHiddenLayers: 12, tieWordEmbeddings: true });
    expect(configFromCard(card(10, false), 12).tieWordEmbeddings).toBe(false);
    const manifest = JSON.parse(readFileSync("docs/recipe-demo/manifest.json", "utf8"));
    const files = buildRecipe({
      manifest,
      ...experimentModelRef(manifest.experiment.model),
      config: configFromCard(card(10, true), 12),
      sourceLayers: 12,
      gpusPerNode: 1,
      nodes: 1,
      appVersion: "0.1.0",
    });
    for (const f of files) expect(f.text, f.path).toBe(readFileSync(join("docs/recipe-demo", f.path), "utf8"));
  });

  it("asks for a config.json when the model's shape is unknown", async () => {
    const run = await runCliCaptured([
      "recipe",
      "--manifest",
      "docs/recipe-demo/manifest.json",
      "--out",
      tmpdir(),
      "--model",
      "someone/unknown-7b",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no shape known for someone\/unknown-7b: pass --config/);
  });
});
