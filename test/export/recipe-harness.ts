/** Shared by the recipe tests: a demo experiment's recipe written to a temporary folder, and python3 run on it. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { defaultExperiment, type Experiment } from "../../src/experiment/experiment";
import { createManifest, type Manifest } from "../../src/experiment/manifest";
import { buildRecipe, type RecipeFile, type RecipeInput } from "../../src/export/recipe/build-recipe";
import { parseLlamaConfig } from "../../src/model/config";

/** The experiment of the committed example (docs/recipe-demo): the demo model, blocks 8–9 dropped. */
export function demoExperiment(): Experiment {
  const experiment = defaultExperiment();
  experiment.prune = { start: 8, count: 2, metric: "angular" };
  return experiment;
}

export function demoManifest(experiment = demoExperiment()): Manifest {
  return createManifest(experiment, "0.1.0", new Date("2026-01-01T00:00:00Z"));
}

export const demoConfig = () => parseLlamaConfig(JSON.parse(readFileSync("public/models/demo/config.json", "utf8")), "demo config.json");

/** A recipe for the demo model on one GPU, as `prunelab recipe --gpus 1` builds it for a demo manifest. */
export function demoRecipeInput(manifest = demoManifest()): RecipeInput {
  return {
    manifest,
    model: "models/original",
    config: demoConfig(),
    sourceLayers: demoConfig().numHiddenLayers,
    gpusPerNode: 1,
    nodes: 1,
    appVersion: "0.1.0",
  };
}

export function writeRecipe(files: readonly RecipeFile[]): string {
  const dir = mkdtempSync(join(tmpdir(), "prunelab-recipe-"));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.text);
  }
  return dir;
}

export const demoRecipe = () => buildRecipe(demoRecipeInput());

/** Runs `code` with python3 in `cwd` (the recipe's scripts importable), `input` on stdin; returns stdout. */
export function python(cwd: string, code: string, input = ""): string {
  try {
    return execFileSync("python3", ["-c", code], {
      cwd,
      input,
      encoding: "utf8",
      maxBuffer: 256 * 2 ** 20,
      env: { ...process.env, PYTHONPATH: cwd, PYTHONDONTWRITEBYTECODE: "1" },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw new Error("python3 is needed for the recipe's checks (scripts/setup.sh --test installs it)");
    throw e;
  }
}
