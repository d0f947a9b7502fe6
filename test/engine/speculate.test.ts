/** The engine's Speculate job in Node on a real adapter, through the handlers the worker serves. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine";
import type { Job } from "../../src/engine/job";
import type { PickedFile } from "../../src/engine/requests";
import { nodeGpu } from "../../src/gpu/node-gpu";
import { hasStories260k, stories260kDir } from "../model/stories260k-files";

function job<P>(signal = new AbortController().signal): Job<P> {
  return { signal, progress: () => {} };
}

function picked(name: string): PickedFile {
  return { path: name, file: new File([readFileSync(`${stories260kDir}/${name}`)], name) };
}

const sampling = { temperature: 0, topK: 0, topP: 1, maxTokens: 24, seed: 1 };

describe.skipIf(!hasStories260k)("the engine's speculate job on stories260K", () => {
  it("drafts with the pruned model for the full one: the accepted, corrected and bonus pieces spell the full model's greedy text", async () => {
    const engine = createEngine(() => nodeGpu());
    await engine.loadModel({ kind: "files", files: [picked("stories260K.bin"), picked("tok512.bin")] }, job());
    const full = await engine.generate({ mode: "completion", prompt: "Once upon a time", sampling }, job());

    const unpruned = await engine.speculate({ prompt: "Once upon a time", k: 3, sampling }, job());
    expect(unpruned.acceptanceRate).toBe(1);
    expect(unpruned.pieces.every((p) => p.fate === "accepted" || p.fate === "bonus")).toBe(true);

    await engine.prune({ start: 3, count: 1 }, job());
    const result = await engine.speculate({ prompt: "Once upon a time", k: 3, sampling }, job());
    const kept = result.pieces.filter((p) => p.fate !== "rejected");
    expect(kept.map((p) => p.text).join("")).toBe(full.text);
    expect(kept).toHaveLength(full.tokens);
    expect(result.pieces.filter((p) => p.fate === "rejected").length).toBeGreaterThan(0);
    expect(result.pieces.filter((p) => p.fate === "accepted")).toHaveLength(result.acceptedTokens);
    expect(result.draft).toMatch(/without block 3/);
    expect(result.acceptanceRate).toBeGreaterThan(0);
    expect(result.acceptanceRate).toBeLessThan(1);
    expect(result.speedup).toBeCloseTo(result.plainSeconds / result.seconds, 12);
  });
});
