/**
 * How much each run of consecutive decoder blocks changes the residual stream, measured on
 * calibration samples, for choosing which blocks to drop:
 *   angular distance (Gromov et al. 2024)  d(l, n) = arccos(cos(h_l, h_{l+n})) / π
 *   Block Influence (ShortGPT)             BI_l   = 1 − mean cos(h_l, h_{l+1}) over all tokens
 * where h_l is the input of block l (h_0 the embedding output) and h_L the last block's output
 * before the final norm. Every (l, n) comes from one forward per batch: the captured hidden states
 * are compared pairwise on the GPU and summed into per-pair totals, read back once at the end.
 */
import type { Gpu } from "../gpu/context";
import { type Tensor, tensorBytes } from "../gpu/tensor";
import type { LlamaCpu } from "../model/llama-cpu";
import { llamaForwardCpu } from "../model/llama-cpu";
import { type LlamaGpu, llamaForward } from "../model/llama-gpu";
import {
  accumulateSimilarity,
  createSimilarityTotals,
  meanSimilarityCpu,
  rowCosineSimilarityCpu,
  similarityMeans,
} from "../ops/similarity";

/** Which token positions of a sample the angular distance is averaged over. */
export type DistanceTokens = "last" | "all";

export interface LayerAnalysis {
  layers: number;
  numSamples: number;
  tokens: DistanceTokens;
  /** angular[n − 1][l] = d(l, n), for n = 1 … L and l = 0 … L − n (0-based start block l). */
  angular: number[][];
  /** blockInfluence[l] = BI_l, l = 0 … L − 1. */
  blockInfluence: number[];
}

export interface AnalyzeProgress {
  samples: number;
  totalSamples: number;
}

export interface AnalyzeOptions {
  /** "last" (default): each sample's last token, as Gromov et al. and PruneMe; "all": every token. */
  tokens?: DistanceTokens;
  /** Samples per forward (default 8). */
  batchSize?: number;
  onProgress?: (p: AnalyzeProgress) => void;
  signal?: AbortSignal;
}

/** Angular distances and Block Influence of `model` over `samples` (token ids, each non-empty, BOS included when wanted). */
export async function analyzeLayers(
  gpu: Gpu,
  model: LlamaGpu,
  samples: readonly (readonly number[])[],
  options: AnalyzeOptions = {},
): Promise<LayerAnalysis> {
  const tokens = options.tokens ?? "last";
  const batchSize = options.batchSize ?? 8;
  checkSamples("analyzeLayers", samples, batchSize);
  const L = model.layers.length;
  const pairs = layerPairs(L);
  const angularTotals = pairs.map(() => createSimilarityTotals(gpu));
  // With "all" the n = 1 totals already are Block Influence's; otherwise BI needs its own, over every token.
  const influenceTotals = tokens === "all" ? undefined : model.layers.map(() => createSimilarityTotals(gpu));
  try {
    for (let start = 0; start < samples.length; start += batchSize) {
      options.signal?.throwIfAborted();
      const batch = samples.slice(start, start + batchSize);
      const length = Math.max(...batch.map((s) => s.length));
      // Right padding: causal attention never lets a real token see the padding after it, so no key mask is needed.
      const padded = batch.map((s) => [...s, ...new Array<number>(length - s.length).fill(0)]);
      const real = Uint32Array.from(batch.flatMap((s) => Array.from({ length }, (_, t) => (t < s.length ? 1 : 0))));
      const realMask = gpu.upload(real, [real.length], "u32", "analysis.realTokens");
      const lastRows = gpu.upload(
        Uint32Array.from(batch, (s, b) => b * length + s.length - 1),
        [batch.length],
        "u32",
        "analysis.lastRows",
      );
      const selection = tokens === "all" ? { mask: realMask } : { rows: lastRows };
      const { hidden } = llamaForward(gpu, model, padded, { captureHidden: true, logits: "none" });
      if (!hidden || hidden.length !== L + 1)
        throw new Error(`analyzeLayers: the forward captured ${hidden?.length ?? 0} hidden states, expected ${L + 1}`);
      pairs.forEach(([l, n], i) => {
        accumulateSimilarity(gpu, hidden[l], hidden[l + n], selection, angularTotals[i]);
      });
      influenceTotals?.forEach((totals, l) => {
        accumulateSimilarity(gpu, hidden[l], hidden[l + 1], { mask: realMask }, totals);
      });
      gpu.release(...hidden, realMask, lastRows);
      // Waiting per batch keeps progress truthful and lets a cancel stop between batches.
      await gpu.sync();
      options.onProgress?.({ samples: start + batch.length, totalSamples: samples.length });
    }
    const angularMeans = await readTotals(gpu, angularTotals);
    const angular = Array.from({ length: L }, (_, k) => new Array<number>(L - k));
    pairs.forEach(([l, n], i) => {
      angular[n - 1][l] = angularMeans[i].angularDistance;
    });
    const influenceMeans = influenceTotals ? await readTotals(gpu, influenceTotals) : angularMeans.slice(0, L);
    return { layers: L, numSamples: samples.length, tokens, angular, blockInfluence: influenceMeans.map((m) => 1 - m.cosine) };
  } finally {
    gpu.release(...angularTotals, ...(influenceTotals ?? []));
  }
}

/** Float64 reference of `analyzeLayers`, one unpadded sample at a time. */
export function analyzeLayersCpu(
  model: LlamaCpu,
  samples: readonly (readonly number[])[],
  options: { tokens?: DistanceTokens } = {},
): LayerAnalysis {
  const tokens = options.tokens ?? "last";
  checkSamples("analyzeLayersCpu", samples, 1);
  const L = model.layers.length;
  const d = model.config.hiddenSize;
  const pairs = layerPairs(L);
  const cosines: number[][] = pairs.map(() => []);
  for (const sample of samples) {
    const hidden = llamaForwardCpu(model, sample, undefined, { captureHidden: true }).hidden ?? [];
    pairs.forEach(([l, n], i) => {
      cosines[i].push(...rowCosineSimilarityCpu(hidden[l], hidden[l + n], sample.length, d));
    });
  }
  // Each sample's rows are consecutive in `cosines[i]`; keep its last one or all of them.
  const lastRows: number[] = [];
  let end = 0;
  for (const s of samples) {
    end += s.length;
    lastRows.push(end - 1);
  }
  const allRows = [...Array(end).keys()];
  const angular = Array.from({ length: L }, (_, k) => new Array<number>(L - k));
  pairs.forEach(([l, n], i) => {
    angular[n - 1][l] = meanSimilarityCpu(cosines[i], tokens === "all" ? allRows : lastRows).angularDistance;
  });
  const blockInfluence = pairs.slice(0, L).map((_, l) => 1 - meanSimilarityCpu(cosines[l], allRows).cosine);
  return { layers: L, numSamples: samples.length, tokens, angular, blockInfluence };
}

/** The start l with the smallest distance for each size n (ties to the earlier block): best[n − 1] = l. */
export function bestStarts(analysis: LayerAnalysis): number[] {
  return analysis.angular.map((row) => row.reduce((best, v, l) => (v < row[best] ? l : best), 0));
}

/** Every (l, n) with n = 1 … L − l, ordered by n then l, so the first L pairs are the n = 1 ones (l = 0 … L − 1). */
function layerPairs(L: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let n = 1; n <= L; n++) for (let l = 0; l + n <= L; l++) pairs.push([l, n]);
  return pairs;
}

function checkSamples(op: string, samples: readonly (readonly number[])[], batchSize: number): void {
  if (samples.length === 0) throw new Error(`${op}: no calibration samples`);
  const empty = samples.findIndex((s) => s.length === 0);
  if (empty >= 0) throw new Error(`${op}: calibration sample ${empty} has no tokens`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`${op}: batchSize must be an integer ≥ 1, got ${batchSize}`);
}

/** Gathers the [3] totals into one tensor so that they come back in a single readback. */
async function readTotals(gpu: Gpu, totals: Tensor[]): Promise<ReturnType<typeof similarityMeans>[]> {
  const all = gpu.tensor([totals.length, 3], "f32", "analysis.totals");
  const bytes = tensorBytes([3], "f32");
  totals.forEach((t, i) => {
    gpu.copy(t, all, bytes, 0, i * bytes);
  });
  const values = await gpu.readF32(all);
  gpu.release(all);
  return totals.map((_, i) => similarityMeans(values.subarray(i * 3, i * 3 + 3)));
}
