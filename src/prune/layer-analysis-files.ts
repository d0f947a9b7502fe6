/**
 * The layer analysis as files other tools read: the CLI's JSON, PruneMe's `layer_distances.csv` and
 * the Block Influence per block (`block_influence.csv`).
 *
 * PruneMe's indexing (arcee-ai/PruneMe, compute_block.py / layer_similarity.py): it takes HF's
 * `output_hidden_states` (L + 1 states: the embedding output, then each block's output), drops the
 * first one, so its state i is the output of block i, i.e. our h_{i+1}; for each i it compares states
 * i and i + n and writes `block_start = i + 1`, `block_end = i + 1 + n`. So `block_start` is our
 * 0-based start block l and `block_end` = l + n is the exclusive end: the blocks dropped are
 * block_start … block_end − 1, the same numbers as mergekit's `layer_range: [0, l]` and `[l + n, L]`.
 * Two differences remain: PruneMe never lists block_start 0 (its states start after block 0) while
 * this file does, and HF's last hidden state has the final norm applied, so PruneMe's rows with
 * block_end = L compare against the normed output where this file uses the raw one (h_L).
 */
import type { LayerAnalysis } from "./layer-analysis";

/** `{"layers": L, "numSamples": K, "angular": {"<n>": {"<l>": d}}, "blockInfluence": [L numbers]}`, 0-based l, n = 1 … L − l. */
export interface LayerAnalysisJson {
  layers: number;
  numSamples: number;
  angular: Record<string, Record<string, number>>;
  blockInfluence: number[];
}

export function layerAnalysisJson(analysis: LayerAnalysis): LayerAnalysisJson {
  const angular: LayerAnalysisJson["angular"] = {};
  analysis.angular.forEach((row, k) => {
    angular[String(k + 1)] = Object.fromEntries(row.map((d, l) => [String(l), d]));
  });
  return { layers: analysis.layers, numSamples: analysis.numSamples, angular, blockInfluence: [...analysis.blockInfluence] };
}

/** PruneMe's columns for every (l, n), ordered by n then l: `block_start` = l, `block_end` = l + n (see the header). */
export function layerDistancesCsv(analysis: LayerAnalysis): string {
  const lines = ["block_start,block_end,average_distance"];
  analysis.angular.forEach((row, k) => {
    row.forEach((d, l) => {
      lines.push(`${l},${l + k + 1},${d}`);
    });
  });
  return `${lines.join("\n")}\n`;
}

/** ShortGPT's Block Influence per block: `block,block_influence`, block 0-based as in the heatmap. */
export function blockInfluenceCsv(analysis: Pick<LayerAnalysis, "blockInfluence">): string {
  return `${["block,block_influence", ...analysis.blockInfluence.map((bi, l) => `${l},${bi}`)].join("\n")}\n`;
}
