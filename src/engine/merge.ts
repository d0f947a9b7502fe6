/**
 * The engine's Merge jobs: two models of the same architecture merged at a chosen t, either the
 * model in use (a, pruned if it was) and a second model picked as files (b, e.g. another fine-tune
 * of the same pruned base), or the model in use with each of two adapters folded in (a and b: the
 * study's SFT and SDD runs). The merge is evaluated zero-shot on the first few items of each
 * multiple-choice task of the demo benchmark suite (short prompts, one forward per choice;
 * few-shot, generative tasks and the full suite are the Evaluate step's), next to a and b, so that
 * moving the t slider shows its effect within seconds. The second model (or the two adapters)
 * stays in host memory between calls; each merge is uploaded, evaluated and released.
 */
import { buildBenchmarkSuite } from "../data/benchmark-suite";
import { buildWorld, demoWorldSeed } from "../data/world";
import { evaluateSuite } from "../eval/suite-runner";
import type { EvalSuite } from "../eval/task-format";
import type { Gpu } from "../gpu/context";
import { checkSameArchitecture, type MergeMethod, mergeWeights } from "../merge/slerp";
import { type ModelWeights, toFloat32 } from "../model/host-tensor";
import { type LlamaGpu, releaseLlama, uploadLlama } from "../model/llama-gpu";
import { loadModelFiles } from "../model/load-model-files";
import { withRopeLayout } from "../model/rope-layout";
import { hfFolderFiles } from "../prune/hf-folder-export";
import type { Job, Progress } from "./job";
import { type FoldableAdapter, foldedWeights, type ModelState } from "./model-state";
import type { ExportedFile, PickedFile } from "./requests";

/** An adapter trained on the model in use, and what to call the model with it folded in. */
export type LabelledAdapter = FoldableAdapter & { label: string };

export interface MergeRequest {
  /** The second model's files; absent (and no `adapters`): the pair given last time. */
  second?: PickedFile[];
  /** Instead of the model in use and a second model: the model in use with `a` folded in (t = 0) and with `b` (t = 1). */
  adapters?: { a: LabelledAdapter; b: LabelledAdapter };
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
  merge(gpu: Gpu, state: ModelState, request: MergeRequest, job: Job<Progress>): Promise<MergeResult>;
  /** The last merge as the files of a Hugging Face folder. */
  exportMerged(state: ModelState, request: Omit<MergeRequest, "second" | "adapters" | "items">): ExportedFile[];
}

function quickSuite(): EvalSuite {
  const suite = buildBenchmarkSuite(buildWorld(demoWorldSeed), { fewShot: 0 });
  return { ...suite, tasks: suite.tasks.filter((t) => t.kind === "multiple-choice") };
}

/** One side of a merge: its name, its weights, and whether it is the model in use (already on the GPU). */
interface MergeSide {
  name: string;
  weights: ModelWeights;
  inUse: boolean;
}

/** Tells two adapters' tensors apart cheaply (the sum of their values), so that a retrained run is evaluated afresh. */
function adapterKey(adapter: LabelledAdapter): string {
  let sum = 0;
  for (const t of Object.values(adapter.tensors)) for (const v of toFloat32(t)) sum += v;
  return `${adapter.label}:${sum}`;
}

export function createMergeJobs(): MergeJobs {
  let source:
    | { kind: "files"; name: string; weights: ModelWeights }
    | { kind: "adapters"; a: LabelledAdapter; b: LabelledAdapter; key: string }
    | undefined;
  let suite: EvalSuite | undefined;
  /** a's and b's scores, valid for one (a, b, items). */
  let references: { key: string; a: QuickScores; b: QuickScores } | undefined;

  const sides = (state: ModelState): { a: MergeSide; b: MergeSide; key: string } => {
    if (!source) throw new Error("Pick the second model's files first.");
    if (source.kind === "adapters") {
      const fold = (adapter: LabelledAdapter): MergeSide => ({
        name: adapter.label,
        weights: foldedWeights(state, adapter, `merge: ${adapter.label}`),
        inUse: false,
      });
      return { a: fold(source.a), b: fold(source.b), key: source.key };
    }
    const a = state.weights;
    checkSameArchitecture(a, withRopeLayout(source.weights, a.config.ropeInterleaved));
    return {
      a: { name: state.card.name, weights: a, inUse: true },
      b: { name: source.name, weights: source.weights, inUse: false },
      key: `${state.card.name}|${source.name}`,
    };
  };

  return {
    async merge(gpu, state, request, job) {
      if (request.adapters) {
        const { a, b } = request.adapters;
        source = { kind: "adapters", a, b, key: `${adapterKey(a)}|${adapterKey(b)}` };
      } else if (request.second) {
        job.progress({ phase: "reading the second model", done: 0, total: 0, unit: "items" });
        const loaded = await loadModelFiles(new Map(request.second.map((f) => [f.path, f.file])), { requireTokenizer: false });
        source = { kind: "files", name: request.second[0]?.path.split("/")[0] || loaded.source, weights: loaded.weights };
        references = undefined;
      }
      const { a, b, key: pairKey } = sides(state);
      suite ??= quickSuite();
      const evaluate = async (model: LlamaGpu, what: string): Promise<QuickScores> => {
        const result = await evaluateSuite(gpu, model, state.tokenizer, suite as EvalSuite, {
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
      const key = `${pairKey}|${request.items}`;
      if (references?.key !== key) {
        references = {
          key,
          a: a.inUse ? await evaluate(state.model, "the first model") : await withUploaded(a.weights, "the first model"),
          b: await withUploaded(b.weights, "the second model"),
        };
      }
      job.progress({ phase: "merging", done: 0, total: 0, unit: "items" });
      const merged = await withUploaded(mergeWeights(a.weights, b.weights, request.t, request.method), `the merge at t = ${request.t}`);
      return {
        t: request.t,
        method: request.method,
        first: a.name,
        second: b.name,
        items: request.items,
        merged,
        a: references.a,
        b: references.b,
      };
    },

    exportMerged(state, request) {
      const { a, b } = sides(state);
      const merged = mergeWeights(a.weights, b.weights, request.t, request.method);
      return [...hfFolderFiles(merged, state.loaded)].map(([name, bytes]) => ({ name, bytes }));
    },
  };
}
