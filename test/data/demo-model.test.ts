/**
 * The committed demo model (public/models/demo/): it loads as a Hugging Face folder, its card and
 * scores.json agree, it reproduces the card's quick-check scores, and the worker's engine loads it
 * over HTTP as the app serves it.
 */
import { readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBenchmarkSuite } from "../../src/data/benchmark-suite";
import { clearlyAboveChance } from "../../src/data/demo-model-card";
import { demoModelName } from "../../src/data/demo-model-files";
import { demoModelRecipe } from "../../src/data/demo-model-recipe";
import { buildWorld, demoWorldSeed } from "../../src/data/world";
import { evaluateSuite, type SuiteResult } from "../../src/eval/suite-runner";
import { nodeGpu } from "../../src/gpu/node-gpu";
import { releaseLlama, uploadLlama } from "../../src/model/llama-gpu";
import { loadModelFromPath } from "../../src/model/load-model-path";
import { Tokenizer } from "../../src/model/tokenizer";
import { createEngine } from "../../src/worker/engine";
import type { Job } from "../../src/worker/rpc";
import { testGpu } from "../gpu-harness";

const folder = new URL("../../public/models/demo/", import.meta.url).pathname;

interface ScoresFile {
  command: string;
  recipe: typeof demoModelRecipe;
  scores: SuiteResult;
  quickCheck: { tasks: string[]; items: number; scores: Record<string, number> };
  loss: number[];
}

const readScores = async (): Promise<ScoresFile> => JSON.parse(await readFile(join(folder, "scores.json"), "utf8"));

describe("the committed demo model", () => {
  it("is a Hugging Face folder of the recipe's shape, small enough to commit, with f16 weights", async () => {
    const loaded = await loadModelFromPath(folder);
    const { config, tensors } = loaded.weights;
    expect(config).toMatchObject({ ...demoModelRecipe.shape, tieWordEmbeddings: true, vocabSize: 1536 });
    expect(config.numHiddenLayers).toBeGreaterThanOrEqual(12);
    expect(new Set([...tensors.values()].map((t) => t.dtype))).toEqual(new Set(["f16"]));
    expect((await stat(join(folder, "model.safetensors"))).size).toBeLessThan(4 * 2 ** 20);
    expect(loaded.generationConfig).toMatchObject({ eos_token_id: config.eosTokenId });
  });

  it("has a card that states the regeneration command, the recipe and every score of scores.json beside its chance level", async () => {
    const card = await readFile(join(folder, "README.md"), "utf8");
    const scores = await readScores();
    expect(scores.command).toBe("npm run train:demo");
    expect(scores.recipe).toEqual(demoModelRecipe);
    expect(card).toContain(`\n${scores.command}\n`);
    expect(card).toContain(`| steps | ${demoModelRecipe.train.steps} × batch ${demoModelRecipe.train.batchSize} sequences |`);
    expect(scores.loss).toHaveLength(demoModelRecipe.train.steps);
    expect(scores.scores.tasks).toHaveLength(6);
    for (const t of scores.scores.tasks) {
      expect(t.n).toBe(demoModelRecipe.evalItems);
      expect(card).toContain(
        `| ${t.name} | ${t.metric} | ${(100 * t.score).toFixed(1)} % ± ${(100 * t.stderr).toFixed(1)} % | ${(100 * (t.chance ?? 0)).toFixed(1)} % |`,
      );
    }
  });

  it("scores every task of the suite clearly above its chance level (more than two standard errors)", async () => {
    const { scores } = await readScores();
    expect(scores.tasks.filter((t) => clearlyAboveChance(t) !== true).map((t) => t.name)).toEqual([]);
  });

  it("reproduces the quick-check scores stored beside the card", async () => {
    const { quickCheck } = await readScores();
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(folder);
    const tokenizer = new Tokenizer(
      { tokenizerJson: loaded.tokenizerJson, tokenizerConfig: loaded.tokenizerConfig, generationConfig: loaded.generationConfig },
      folder,
    );
    const suite = buildBenchmarkSuite(buildWorld(demoWorldSeed));
    const tasks = suite.tasks.filter((t) => quickCheck.tasks.includes(t.name));
    const model = uploadLlama(gpu, loaded.weights);
    const result = await evaluateSuite(gpu, model, tokenizer, { ...suite, tasks }, { limit: quickCheck.items });
    releaseLlama(gpu, model);
    // The card was measured on lavapipe, whose f16 matmuls read the f16 weights directly; without
    // shader-f16 (SwiftShader) they are widened to f32, and a near-tied choice may flip: one item in 20.
    const tolerance = 1 / quickCheck.items + 1e-9;
    expect(result.tasks.map((t) => t.name)).toEqual(quickCheck.tasks);
    for (const t of result.tasks) expect(Math.abs(t.score - quickCheck.scores[t.name]), t.name).toBeLessThanOrEqual(tolerance);
    // 160 few-shot continuations: over a minute on SwiftShader.
  }, 300_000);
});

describe("the engine's demo model source", () => {
  let server: Server;
  let base = "";
  beforeAll(async () => {
    // As the app serves public/: files under /models/demo/.
    server = createServer(async (request, response) => {
      const name = request.url?.match(/^\/models\/demo\/([\w.]+)$/)?.[1];
      const body = name ? await readFile(join(folder, name)).catch(() => undefined) : undefined;
      response.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("fetches and loads the bundled model, then generates from it deterministically", async () => {
    const engine = createEngine(
      () => nodeGpu(),
      () => new URL("/models/demo/", base),
    );
    const job = <P>(seen: P[] = []): Job<P> => ({ signal: new AbortController().signal, progress: (p) => seen.push(p) });
    const progress: { phase: string }[] = [];
    const card = await engine.loadModel({ kind: "demo" }, job(progress));
    expect(card).toMatchObject({
      name: demoModelName,
      layers: demoModelRecipe.shape.numHiddenLayers,
      hasChatTemplate: true,
      vocabSize: 1536,
    });
    expect(progress.map((p) => p.phase)).toContain("fetched model.safetensors");
    const ask = () =>
      engine.generate(
        { mode: "completion", prompt: "In Bramblewick,", sampling: { temperature: 0, topK: 0, topP: 1, maxTokens: 16, seed: 1 } },
        job(),
      );
    const reply = await ask();
    expect(reply.tokens).toBeGreaterThan(0);
    expect(await ask()).toMatchObject({ text: reply.text, tokens: reply.tokens });
  });

  it("says which file is missing when the folder is not served", async () => {
    const engine = createEngine(
      () => nodeGpu(),
      () => new URL("/models/nowhere/", base),
    );
    await expect(engine.loadModel({ kind: "demo" }, { signal: new AbortController().signal, progress: () => {} })).rejects.toThrow(
      /demo model's config\.json could not be fetched from .*HTTP 404/,
    );
  });
});
