/** The worker's engine run in Node on a real adapter (Dawn: lavapipe or SwiftShader), through the same handlers the worker serves. */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine";
import type { Job } from "../../src/engine/job";
import type { GenerateRequest, PickedFile } from "../../src/engine/requests";
import { nodeGpu } from "../../src/gpu/node-gpu";

const stories = fileURLToPath(new URL("../../../shared/models/stories260K/", import.meta.url));
const haveStories = existsSync(`${stories}stories260K.bin`);

function job<P>(seen: P[] = [], signal = new AbortController().signal): Job<P> {
  return { signal, progress: (p) => seen.push(p) };
}

function picked(name: string): PickedFile {
  return { path: name, file: new File([readFileSync(`${stories}${name}`)], name) };
}

const sampling = { temperature: 0, topK: 0, topP: 1, maxTokens: 12, seed: 1 };

describe("engine", () => {
  it("reports the adapter, and refuses work it cannot do yet with typed errors", async () => {
    const engine = createEngine(() => nodeGpu());
    const info = await engine.gpu({}, job());
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    await expect(engine.generate({ mode: "completion", prompt: "hi", sampling }, job())).rejects.toMatchObject({
      name: "EngineStateError",
    });
    await expect(engine.loadModel({ kind: "files", files: [] }, job())).rejects.toMatchObject({ name: "MissingModelFileError" });
  });

  it("without WebGPU, says what to do", async () => {
    const engine = createEngine(() => undefined);
    await expect(engine.gpu({}, job())).rejects.toMatchObject({
      name: "GpuUnavailableError",
      message: expect.stringMatching(/--enable-unsafe-webgpu/),
    });
  });

  it.skipIf(!haveStories)("loads llama2.c files, generates deterministically with streamed text, and stops when cancelled", async () => {
    const engine = createEngine(() => nodeGpu());
    const progress: { phase: string }[] = [];
    const card = await engine.loadModel({ kind: "files", files: [picked("stories260K.bin"), picked("tok512.bin")] }, job(progress));
    expect(card).toMatchObject({
      name: "stories260K.bin",
      format: "llama2.c",
      layers: 5,
      hiddenSize: 64,
      heads: 8,
      kvHeads: 4,
      vocabSize: 512,
      hasChatTemplate: false,
    });
    expect(card.parameters).toBeGreaterThan(250_000);
    expect(progress.map((p) => p.phase)).toEqual(["reading weights", "uploading weights to the GPU"]);

    const request: GenerateRequest = { mode: "completion", prompt: "Once upon a time", sampling };
    const deltas: { text: string; tokens: number }[] = [];
    const first = await engine.generate(request, job(deltas));
    expect(first.tokens).toBeGreaterThan(0);
    expect(first.tokens).toBeLessThanOrEqual(12);
    expect(first.promptTokens).toBeGreaterThan(1);
    expect(deltas.map((d) => d.text).join("")).toBe(first.text);
    expect(deltas.at(-1)?.tokens).toBe(first.tokens);
    expect(first.text.trim().length).toBeGreaterThan(0);
    // Greedy decoding is deterministic.
    expect((await engine.generate(request, job())).text).toBe(first.text);

    const controller = new AbortController();
    const long = engine.generate({ ...request, sampling: { ...sampling, maxTokens: 400 } }, job([], controller.signal));
    controller.abort();
    await expect(long).rejects.toMatchObject({ name: "CancelledError" });
  });
});
