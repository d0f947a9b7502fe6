/**
 * A mergekit `passthrough` config that rebuilds the pruned model from the original at full scale:
 * the kept blocks as slices with half-open `layer_range`s [0, l) and [l + n, L) (the layout of
 * PruneMe's slice_with_mergekit/slice.yaml). An empty range is left out, since mergekit cannot
 * build a slice without layers.
 */
import { checkBlockRange } from "./accounting";

export function mergekitSliceYaml(modelName: string, layers: number, start: number, n: number): string {
  checkBlockRange(layers, start, n);
  const ranges = [
    [0, start],
    [start + n, layers],
  ].filter(([from, to]) => to > from);
  const model = JSON.stringify(modelName);
  return [
    "slices:",
    ...ranges.flatMap(([from, to]) => ["  - sources:", `      - model: ${model}`, `        layer_range: [${from}, ${to}]`]),
    "merge_method: passthrough",
    "dtype: bfloat16",
    "",
  ].join("\n");
}
