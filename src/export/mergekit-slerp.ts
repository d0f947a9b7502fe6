/**
 * A mergekit config for the SLERP merge of two models, so the merge made here at small scale is
 * repeated at full scale with `mergekit-yaml`. The first model is `base_model`, reached at t = 0,
 * as in `mergeWeights`. Strings and lists are written in YAML's JSON-compatible flow style.
 */
import type { InterpolationFactor } from "../merge/interpolation-factor";

export interface MergekitSlerpOptions {
  /** Model references (Hub ids or paths) of the first (t = 0) and second (t = 1) model. */
  modelA: string;
  modelB: string;
  /** Decoder blocks of both models (the slices form covers [0, layers)). */
  layers: number;
  t: InterpolationFactor;
  /** "slices" (default, mergekit's README example) or "models". */
  form?: "slices" | "models";
  dtype?: "bfloat16" | "float16" | "float32";
}

export function mergekitSlerpYaml(options: MergekitSlerpOptions): string {
  const { modelA, modelB, layers, t } = options;
  if (!(Number.isInteger(layers) && layers >= 1)) throw new Error(`mergekitSlerpYaml: layers must be an integer ≥ 1, got ${layers}`);
  const a = JSON.stringify(modelA);
  const b = JSON.stringify(modelB);
  const models =
    options.form === "models"
      ? ["models:", `  - model: ${a}`, `  - model: ${b}`]
      : ["slices:", "  - sources:", ...[a, b].flatMap((m) => [`      - model: ${m}`, `        layer_range: [0, ${layers}]`])];
  const value = (v: number | readonly number[]) => (typeof v === "number" ? String(v) : `[${v.join(", ")}]`);
  const factor =
    typeof t === "number" || t.every((e) => typeof e === "number")
      ? [`  t: ${value(t as number | readonly number[])}`]
      : [
          "  t:",
          ...(t as Exclude<InterpolationFactor, number | readonly number[]>).flatMap((rule) =>
            rule.filter === undefined
              ? [`    - value: ${value(rule.value)}`]
              : [`    - filter: ${JSON.stringify(rule.filter)}`, `      value: ${value(rule.value)}`],
          ),
        ];
  return [...models, "merge_method: slerp", `base_model: ${a}`, "parameters:", ...factor, `dtype: ${options.dtype ?? "bfloat16"}`, ""].join(
    "\n",
  );
}
