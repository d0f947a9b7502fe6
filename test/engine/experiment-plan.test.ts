/** The one mapping from an experiment to the study's job requests, shared by the workbench and `prunelab replay`. */
import { describe, expect, it } from "vitest";
import { sdftTemplates } from "../../src/distill/sdft-template";
import { defaultExperiment } from "../../src/engine/experiment";
import {
  analyzeRequest,
  calibrationSetName,
  chooseBlock,
  demoFinetuneSet,
  distillRequest,
  effectiveTrainSettings,
  evaluateRequest,
  PlanError,
  studyDatasets,
  studyEvalModels,
} from "../../src/engine/experiment-plan";
import type { LayerAnalysis } from "../../src/prune/layer-analysis";

const analysis: LayerAnalysis = {
  layers: 4,
  numSamples: 1,
  tokens: "last",
  // d(l, n): the smallest for n = 2 starts at 1.
  angular: [[0.3, 0.2, 0.1, 0.4], [0.5, 0.2, 0.6], [0.7, 0.8], [0.9]],
  // Summed over 2 blocks: 0.9, 0.5, 0.6 → start 1; the smallest single block is 2.
  blockInfluence: [0.5, 0.4, 0.1, 0.5],
};

describe("the experiment plan", () => {
  it("analyses the demo calibration set, or the text given for any other name", () => {
    const e = defaultExperiment();
    expect(analyzeRequest(e)).toEqual({
      calibration: { kind: "demo" },
      chatTemplate: false,
      tokens: "last",
      batchSize: 8,
      maxSamples: 64,
      seqLen: 256,
    });
    e.calibration.dataset = calibrationSetName({ kind: "jsonl", name: "mine.jsonl", text: "" });
    expect(e.calibration.dataset).toBe("mine.jsonl");
    expect(() => analyzeRequest(e)).toThrow(PlanError);
    expect(() => analyzeRequest(e)).toThrow(/calibration\.dataset is "mine\.jsonl"/);
    const given = { kind: "jsonl" as const, name: "mine.jsonl", text: '{"text":"a"}' };
    expect(analyzeRequest(e, { calibration: given }).calibration).toEqual(given);
  });

  it("keeps a chosen block and otherwise chooses the most redundant one by the metric", () => {
    const e = defaultExperiment();
    expect(chooseBlock(e, analysis, 2)).toEqual({ start: 1, count: 2 });
    e.prune.metric = "block-influence";
    expect(chooseBlock(e, analysis, 1)).toEqual({ start: 2, count: 1 });
    expect(chooseBlock(e, analysis, 2)).toEqual({ start: 1, count: 2 });
    expect(() => chooseBlock(e, analysis, 4)).toThrow(/from 1 to 3, got 4/);
    e.prune = { ...e.prune, start: 2, count: 2 };
    expect(chooseBlock(e, analysis, 1)).toEqual({ start: 2, count: 2 });
    e.prune.start = 3;
    expect(() => chooseBlock(e, analysis, 0)).toThrow(/prune\.start 3 and prune\.count 2 do not fit a 4-block model/);
  });

  it("distils the named set with the experiment's sampling and seeds; the answer check only on math data", () => {
    const e = defaultExperiment();
    e.seeds.data = 9;
    const general = distillRequest(e);
    expect(general).toEqual({
      source: { kind: "demo", dataset: "general", count: 16, seed: 9 },
      kind: "general",
      template: sdftTemplates.general,
      temperature: 0.95,
      topP: 0.7,
      seed: 9,
      maxTokens: 128,
      batchSize: 4,
    });
    e.distill.dataset = demoFinetuneSet("math");
    expect(distillRequest(e)).toMatchObject({ source: { dataset: "math" }, kind: "math", template: sdftTemplates.math });
    e.distill.consistencyFilter = false;
    expect(distillRequest(e)).toMatchObject({ kind: "general", template: sdftTemplates.math });
    e.distill.dataset = "mine.jsonl";
    expect(() => distillRequest(e)).toThrow(/distill\.dataset is "mine\.jsonl"/);
    const edited = { ...sdftTemplates.general, responseOpener: "Well," };
    expect(distillRequest(e, { finetune: { name: "mine.jsonl", text: "{}" }, template: edited })).toMatchObject({
      source: { kind: "jsonl", name: "mine.jsonl", text: "{}", count: 16 },
      template: edited,
    });
  });

  it("trains with the experiment's LoRA, optimiser, length and seed, keeping only the caller's saving and measuring", () => {
    const e = defaultExperiment();
    e.lora = {
      ...e.lora,
      targets: "q_proj, v_proj,gate_proj",
      steps: 7,
      maxLength: 99,
      learningRate: 0.01,
      batchSize: 3,
      warmupSteps: 2,
      weightDecay: 0.1,
      maxGradNorm: 0.5,
    };
    e.seeds.train = 4;
    expect(effectiveTrainSettings({ checkpointEvery: 2, evalEvery: 3, evalItems: 5 }, e)).toEqual({
      lora: { rank: 8, alpha: 16, dropout: 0.05, modules: ["q", "v", "gate"] },
      lr: 0.01,
      steps: 7,
      batchSize: 3,
      seed: 4,
      maxLength: 99,
      warmupSteps: 2,
      weightDecay: 0.1,
      maxGradNorm: 0.5,
      checkpointEvery: 2,
      evalEvery: 3,
      evalItems: 5,
    });
  });

  it("trains SFT on the references and SDD on the kept rewrites of the same instructions", () => {
    const example = { index: 0, instruction: "i", input: "", reference: "ref", rewrite: "new", output: "new", kept: true };
    expect(studyDatasets([example])).toEqual({
      sft: [{ instruction: "i", input: "", output: "ref" }],
      sdd: [{ instruction: "i", input: "", output: "new" }],
    });
  });

  it("evaluates the original, the pruned model, each finished adapter and, with both, their SLERP merge at merge.t", () => {
    const e = defaultExperiment();
    const adapter = { config: { rank: 1, alpha: 1, dropout: 0, modules: ["q" as const] }, tensors: {}, layers: 3, cancelled: false };
    const labels = (models: ReturnType<typeof studyEvalModels>) => models.map((m) => m.label);
    expect(labels(studyEvalModels(e, {}, false))).toEqual(["original"]);
    expect(labels(studyEvalModels(e, { sdd: adapter, sft: { ...adapter, cancelled: true } }, true))).toEqual([
      "original",
      "pruned",
      "pruned + SDD",
    ]);
    const all = studyEvalModels(e, { sft: adapter, sdd: adapter }, true);
    expect(all.at(-1)).toEqual({ label: "pruned + SLERP(SFT, SDD) t = 0.5", kind: "merged", a: adapter, b: adapter, t: 0.5 });
    e.evaluate = { ...e.evaluate, items: 3, fewShot: 2 };
    expect(evaluateRequest(e, all)).toEqual({ items: 3, fewShot: 2, models: all });
  });
});
