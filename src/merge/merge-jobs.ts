/**
 * The engine's Merge jobs: the model in use (a, pruned if it was) is merged with a second model of
 * the same architecture (b, picked as files, e.g. another fine-tune of the same pruned base) at a
 * chosen t, and the merge is evaluated zero-shot on the first few items of each multiple-choice
 * task of the demo benchmark suite (short prompts, one forward per choice; few-shot, generative
 * tasks and the full suite are the Evaluate step's), next to a and b, so that moving the t slider
 * shows its effect within seconds. The second
 * model stays in host memory between calls; each merge is uploaded, evaluated and released.
 */
import { buildBenchmarkSuite } from "../data/benchmark-suite";
import { buildWorld, demoWorldSeed } from "../data/world";
import { evaluateSuite } from "../eval/suite-runner";
import type { EvalSuite } from "../eval/task-format";
import type { Gpu } from "../gpu/context";
import type { ModelWeights } from "../model/host-tensor";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../model/llama-gpu";
import { loadModelFiles } from "../model/load-model-files";
import { withRopeLayout } from "../model/rope-layout";
import { dropBlocksFromWeights } from "../prune/drop-blocks";
import { hfFolderFiles } from "../prune/hf-folder-export";
import type { ExportedFile, PickedFile, Progress } from "../worker/protocol";
import type { PrunableModel } from "../worker/prune-jobs";
import type { Job } from "../worker/rpc";
import { checkSameArchitecture, type MergeMethod, mergeWeights } from "./slerp";

export interface MergeRequest {
  /** The second model's files; absent: the one given last time. */
  second?: PickedFile[];
  t: number;
  method: MergeMethod;
  /** Items per task of the quick evaluation. */
  items: number;
}

export interface QuickScores {
  average: number;
  tasks: { name: string; score: number }[];
}

export interface MergeResult {
  t: number;
  method: MergeMethod;
  first: string;
  second: string;
  /** Items per task evaluated. */
  items: number;
  merged: QuickScores;
  /** a and b on the same items (evaluated once per pair and item count). */
  a: QuickScores;
  b: QuickScores;
}

export interface MergeJobs {
  merge(gpu: Gpu, ready: PrunableModel, request: MergeRequest, job: Job<Progress>): Promise<MergeResult>;
  /** The last merge as the files of a Hugging Face folder. */
  exportMerged(ready: PrunableModel, request: Omit<MergeRequest, "second" | "items">): ExportedFile[];
}

function quickSuite(): EvalSuite {
  const suite = buildBenchmarkSuite(buildWorld(demoWorldSeed), { fewShot: 0 });
  return { ...suite, tasks: suite.tasks.filter((t) => t.kind === "multiple-choice") };
}

export function createMergeJobs(): MergeJobs {
  let second: { name: string; weights: ModelWeights } | undefined;
  let suite: EvalSuite | undefined;
  /** a's and b's scores, valid for one (a, b, items). */
  let references: { key: string; a: QuickScores; b: QuickScores } | undefined;

  const firstWeights = (ready: PrunableModel): ModelWeights =>
    ready.pruned ? dropBlocksFromWeights(ready.loaded.weights, ready.pruned.start, ready.pruned.count) : ready.loaded.weights;

  const secondWeights = (ready: PrunableModel): { name: string; weights: ModelWeights } => {
    if (!second) throw new Error("Pick the second model's files first.");
    const a = firstWeights(ready);
    checkSameArchitecture(a, withRopeLayout(second.weights, a.config.ropeInterleaved));
    return second;
  };

  return {
    async merge(gpu, ready, request, job) {
      if (request.second) {
        job.progress({ phase: "reading the second model", done: 0, total: 0, unit: "items" });
        const loaded = await loadModelFiles(new Map(request.second.map((f) => [f.path, f.file])), { requireTokenizer: false });
        second = { name: request.second[0]?.path.split("/")[0] || loaded.source, weights: loaded.weights };
        references = undefined;
      }
      const b = secondWeights(ready);
      suite ??= quickSuite();
      const evaluate = async (model: LlamaGpu, what: string): Promise<QuickScores> => {
        const result = await evaluateSuite(gpu, model, ready.tokenizer, suite as EvalSuite, {
          limit: request.items,
          signal: job.signal,
          onProgress: (p) => job.progress({ phase: `evaluating ${what} (${p.task})`, done: p.done, total: p.total, unit: "items" }),
        });
        return { average: result.average, tasks: result.tasks.map((t) => ({ name: t.name, score: t.score })) };
      };
      const withUploaded = async (weights: ModelWeights, what: string) => {
        const model = uploadLlama(gpu, weights);
        try {
          return await evaluate(model, what);
        } finally {
          releaseLlama(gpu, model);
        }
      };
      const key = `${ready.card.name}|${b.name}|${request.items}`;
      if (references?.key !== key) {
        references = { key, a: await evaluate(ready.model, "the first model"), b: await withUploaded(b.weights, "the second model") };
      }
      job.progress({ phase: "merging", done: 0, total: 0, unit: "items" });
      const merged = await withUploaded(
        mergeWeights(firstWeights(ready), b.weights, request.t, request.method),
        `the merge at t = ${request.t}`,
      );
      return {
        t: request.t,
        method: request.method,
        first: ready.card.name,
        second: b.name,
        items: request.items,
        merged,
        a: references.a,
        b: references.b,
      };
    },

    exportMerged(ready, request) {
      const merged = mergeWeights(firstWeights(ready), secondWeights(ready).weights, request.t, request.method);
      return [...hfFolderFiles(merged, ready.loaded)].map(([name, bytes]) => ({ name, bytes }));
    },
  };
}
