/**
 * The small sweep that chose the demo model's recipe: each variant of demoModelRecipe trains a few
 * steps, then is measured on what the model is for, with texts no run trains on (their own seed):
 *   - teacher NLL (general, math): nats per token of the rewrite the corpus teaches (the model-voice
 *     answer) after an SDFT request, for held-aside training-side instructions;
 *   - world NLL: nats per token of held-aside biographies, encounter sheets and chats (what the
 *     model knows of the world, which the new stage must not wash out).
 * Step 0 is the starting model itself. Prints a Markdown table.
 *
 *   node --import ./bin/register.mjs scripts/sweep-demo-recipe.ts [--steps 20] [--batch 8] [--only a,b]
 */
import "../src/gpu/node-globals";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { specialTokens } from "../src/data/chat-template";
import { type DemoModelRecipe, demoModelConfig, demoModelRecipe, packedTrainingData } from "../src/data/demo-model-recipe";
import { Draws } from "../src/data/draws";
import { drawGeneralInstruction, drawMathInstruction, trainingSide } from "../src/data/instruction-examples";
import { pretrainingDocuments } from "../src/data/pretraining-corpus";
import { buildWorld, demoWorldSeed } from "../src/data/world";
import { type PromptedResponse, promptedResponse, responseNll } from "../src/distill/response-nll";
import { renderSdftPrompt, sdftTemplates } from "../src/distill/sdft-template";
import { acquireGpu } from "../src/gpu/device";
import { nodeGpu } from "../src/gpu/node-gpu";
import { releaseLlama, uploadLlama } from "../src/model/llama-gpu";
import { loadTokenizer } from "../src/model/tokenizer";
import { trainModel } from "../src/train/train-loop";
import { demoStartingWeights } from "./demo-starting-weights";

const { values: args } = parseArgs({
  options: { steps: { type: "string", default: "20" }, batch: { type: "string", default: "8" }, only: { type: "string" } },
});

type Variant = { name: string; change: (r: DemoModelRecipe) => DemoModelRecipe };
const withTrain = (r: DemoModelRecipe, train: Partial<DemoModelRecipe["train"]>) => ({ ...r, train: { ...r.train, ...train } });
const variants: Variant[] = [
  { name: "start (step 0)", change: (r) => r },
  { name: "warm, lr 1e-3, rewrite 22", change: (r) => r },
  { name: "warm, lr 3e-4, rewrite 22", change: (r) => withTrain(r, { lr: 3e-4 }) },
  { name: "warm, lr 1e-3, rewrite 12", change: (r) => ({ ...r, corpusMix: { ...r.corpusMix, rewrite: 12 } }) },
  { name: "fresh init, lr 3e-3, rewrite 22", change: (r) => withTrain({ ...r, initFrom: undefined }, { lr: 3e-3 }) },
];

const dir = resolve("public/models/demo");
const tokenizer = await loadTokenizer(dir, (name) => readFile(join(dir, name), "utf8").catch(() => null));
const encode = (text: string) => tokenizer.encode(text, { bos: false });
const world = buildWorld(demoWorldSeed);
const gpu = await acquireGpu(nodeGpu());

// Held aside by their own seeds: no training run draws these.
const side = trainingSide(world);
const aside = new Draws(9001, "sweep");
const teacherTexts = (kind: "general" | "math"): PromptedResponse[] =>
  Array.from({ length: 24 }, () => {
    const e = kind === "math" ? drawMathInstruction(side, aside) : drawGeneralInstruction(side, aside);
    const record = { instruction: e.instruction, input: e.input, output: e.referenceResponse(aside) };
    const prompt = renderSdftPrompt(tokenizer, sdftTemplates[kind], record);
    // The corpus writes the opener, a space, then the answer; the prompt ends at the trimmed opener.
    return promptedResponse(encode, prompt, `${kind === "math" ? " " : ""}${e.modelResponse}${specialTokens.end}`);
  });
const worldTexts: PromptedResponse[] = [];
for (const doc of pretrainingDocuments(world, { seed: 9002 })) {
  if (!["biography", "encounter", "chat"].includes(doc.kind)) continue;
  const ids = encode(doc.text);
  worldTexts.push({ prompt: ids.slice(0, 1), response: ids.slice(1) });
  if (worldTexts.length === 48) break;
}
const probes = { general: teacherTexts("general"), math: teacherTexts("math"), world: worldTexts };

const rows: string[] = [];
const only = args.only?.split(",");
for (const [i, variant] of variants.entries()) {
  if (only && !only.includes(String(i))) continue;
  const base = variant.change(demoModelRecipe);
  const steps = i === 0 ? 0 : Number(args.steps);
  const recipe = withTrain(base, { steps: Math.max(steps, 1), batchSize: Number(args.batch), warmupSteps: 2, checkpointEvery: 0 });
  const config = demoModelConfig(recipe, { vocabSize: tokenizer.vocabSize, bos: 0, eos: 1 });
  const model = uploadLlama(gpu, await demoStartingWeights(recipe, config), { weightDtype: "f32" });
  const started = performance.now();
  let tokens = 0;
  if (steps > 0) {
    const data = packedTrainingData(world, encode, recipe);
    const result = await trainModel(gpu, model, data.examples, recipe.train, {
      onStep: (r) =>
        console.error(`${variant.name}: step ${r.step} loss ${r.loss.toFixed(3)} ${((r.tokens / r.elapsedMs) * 1000).toFixed(0)} tok/s`),
    });
    tokens = result.history.reduce((s, r) => s + r.tokens, 0);
  }
  const seconds = (performance.now() - started) / 1000;
  const nll = async (items: PromptedResponse[]) => (await responseNll(gpu, model, items)).perToken.toFixed(3);
  const row = `| ${variant.name} | ${steps} | ${tokens} | ${seconds.toFixed(0)} | ${await nll(probes.general)} | ${await nll(probes.math)} | ${await nll(probes.world)} |`;
  console.error(row);
  rows.push(row);
  releaseLlama(gpu, model);
}
console.log(`| variant | steps | tokens | train s | teacher NLL general | teacher NLL math | world NLL |
|---|---|---|---|---|---|---|
${rows.join("\n")}`);
gpu.destroy();
