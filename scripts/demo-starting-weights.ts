/**
 * The demo model's starting weights for a recipe: random by its `initSeed`, or, for continued
 * pretraining, the f16 weights of the demo model committed at `initFrom.commit`, read from git (so
 * the start is reproducible from the repository alone) and widened to f32.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type DemoModelRecipe, initialDemoWeights } from "../src/data/demo-model-recipe";
import type { LlamaConfig } from "../src/model/config";
import { castHostTensor, type HostTensor, type ModelWeights } from "../src/model/host-tensor";
import { readSafetensors } from "../src/model/safetensors";

export async function demoStartingWeights(recipe: DemoModelRecipe, config: LlamaConfig): Promise<ModelWeights> {
  const fresh = initialDemoWeights(config, recipe.initSeed);
  if (!recipe.initFrom) return fresh;
  const { commit, path } = recipe.initFrom;
  const { stdout } = await promisify(execFile)("git", ["show", `${commit}:${path}`], { encoding: "buffer", maxBuffer: 64 * 2 ** 20 });
  const stored = readSafetensors(new Uint8Array(stdout), `${commit}:${path}`).tensors;
  const tensors = new Map<string, HostTensor>();
  for (const [name, like] of fresh.tensors) {
    const t = stored.get(name);
    if (!t || t.shape.join(",") !== like.shape.join(",")) {
      throw new Error(`demoStartingWeights: ${commit}:${path} has no ${name} of shape [${like.shape}] (another shape than the recipe's)`);
    }
    tensors.set(name, castHostTensor(t, "f32"));
  }
  return { config, tensors };
}
