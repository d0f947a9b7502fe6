/**
 * `prunelab recipe`: writes an experiment as a folder that runs it on a GPU cluster with the Python
 * stack (src/export/recipe/build-recipe.ts). This file only reads the manifest and the model's
 * config, and writes the files.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { version } from "../../package.json";
import { parseManifest } from "../experiment/manifest";
import { buildRecipe } from "../export/recipe/build-recipe";
import { knownHubModels, knownModelConfig } from "../export/recipe/known-models";
import { demoModelFolder, experimentModelRef } from "../export/recipe/recipe-model";
import { type LlamaConfig, parseLlamaConfig } from "../model/config";
import { number, parseCommand, required, UsageError } from "./cli-args";
import type { CliIo } from "./run-cli";

export const recipeUsage = `  prunelab recipe --manifest FILE --out DIR [--model HUB_ID] [--config FILE] [--gpus N] [--nodes M]
      Writes the experiment as a folder that runs it at full scale on a GPU cluster with transformers,
      peft, trl, accelerate, vLLM, lm-eval and mergekit: README (commands, hardware, cost per step),
      scripts and configs. --model: the Hub model to run it on (default: the manifest's); its shape
      comes from a table of known models (${knownHubModels.join(", ")}) or --config (its config.json).
      --gpus per node (default 8), --nodes (default 1).`;

async function configFile(path: string): Promise<LlamaConfig> {
  return parseLlamaConfig(JSON.parse(await readFile(path, "utf8")), path);
}

export async function recipeCommand(argv: readonly string[], io: CliIo): Promise<void> {
  const { values } = parseCommand(argv, {
    manifest: { type: "string" },
    out: { type: "string" },
    model: { type: "string" },
    config: { type: "string" },
    gpus: { type: "string" },
    nodes: { type: "string" },
  });
  const manifestPath = required(values.manifest, "manifest");
  const out = required(values.out, "out");
  const gpusPerNode = values.gpus === undefined ? 8 : number("gpus", values.gpus, { integer: true, min: 1 });
  const nodes = values.nodes === undefined ? 1 : number("nodes", values.nodes, { integer: true, min: 1 });
  const { manifest, warnings } = parseManifest(await readFile(manifestPath, "utf8"), manifestPath);
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  const source = manifest.experiment.model;

  // The model the experiment ran on: its depth decides whether its block carries over as is.
  let sourceConfig: LlamaConfig | undefined;
  if (source.source === "demo") sourceConfig = await configFile(join(demoModelFolder, "config.json"));
  else if (source.source === "hub") sourceConfig = knownModelConfig(source.repo);
  const config = values.config ? await configFile(values.config) : values.model ? knownModelConfig(values.model) : sourceConfig;
  if (!config) {
    throw new UsageError(
      `no shape known for ${values.model ?? (source.repo || `the manifest's ${source.source} model`)}: pass --config with its config.json (known: ${knownHubModels.join(", ")})`,
    );
  }
  const { model, modelNote } = values.model ? { model: values.model, modelNote: undefined } : experimentModelRef(source);
  const files = buildRecipe({
    manifest,
    model,
    config,
    sourceLayers: sourceConfig?.numHiddenLayers ?? config.numHiddenLayers,
    gpusPerNode,
    nodes,
    modelNote,
    appVersion: version,
  });
  for (const f of files) {
    await mkdir(dirname(join(out, f.path)), { recursive: true });
    await writeFile(join(out, f.path), f.text);
  }
  io.stdout(
    `wrote ${files.length} files to ${out}/ (a recipe for ${model} on ${nodes} × ${gpusPerNode} GPUs); start with ${join(out, "README.md")}\n`,
  );
}
