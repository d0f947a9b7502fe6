/**
 * The interpolation factor `t` of a SLERP / LERP merge, with mergekit's semantics: one number, a
 * gradient (a list of numbers interpolated across the layers), or a list of rules
 * `{ filter?: "self_attn" | "mlp" | …, value }` where the first rule whose filter is a substring of
 * the tensor's name (or that has no filter) applies. Layer l of L sits at l / (L − 1) along a
 * gradient; tensors outside the layers (embeddings, final norm, lm_head) sit at 0, as mergekit plans them.
 */

export type Gradient = number | readonly number[];

export interface FactorRule {
  filter?: string;
  value: Gradient;
}

export type InterpolationFactor = Gradient | readonly FactorRule[];

const layerIndex = /^model\.layers\.(\d+)\./;

/** The factor for tensor `name` of a model with `layers` decoder blocks. */
export function interpolationFactorAt(t: InterpolationFactor, name: string, layers: number): number {
  const layer = layerIndex.exec(name);
  const position = layer ? (layers > 1 ? Number(layer[1]) / (layers - 1) : 1) : 0;
  if (typeof t === "number") return t;
  if (t.every((e): e is number => typeof e === "number")) return alongGradient(t, position);
  const rule = (t as readonly FactorRule[]).find((r) => r.filter === undefined || r.filter === "*" || name.includes(r.filter));
  if (!rule) throw new Error(`interpolationFactorAt: no rule of t applies to ${name}; add a rule without a filter as the default`);
  return typeof rule.value === "number" ? rule.value : alongGradient(rule.value, position);
}

function alongGradient(values: readonly number[], position: number): number {
  const scaled = position * (values.length - 1);
  const i0 = Math.floor(scaled);
  const i1 = Math.min(values.length - 1, i0 + 1);
  const frac = scaled - i0;
  return (1 - frac) * values[i0] + frac * values[i1];
}

/** Checks a parsed value (from JSON or YAML) against the shape of `t`; `what` names its source in errors. */
export function parseInterpolationFactor(value: unknown, what: string): InterpolationFactor {
  const gradient = (v: unknown, where: string): Gradient => {
    if (typeof v === "number" && Number.isFinite(v)) return v;
    if (Array.isArray(v) && v.length > 0 && v.every((e) => typeof e === "number" && Number.isFinite(e))) return v as number[];
    throw new Error(`${what}: ${where} must be a number or a non-empty list of numbers, got ${JSON.stringify(v)}`);
  };
  if (!Array.isArray(value) || value.length === 0 || value.every((e) => typeof e === "number")) return gradient(value, "t");
  return value.map((rule, i) => {
    if (typeof rule !== "object" || rule === null || !("value" in rule)) {
      throw new Error(`${what}: t[${i}] must be {filter?, value}, got ${JSON.stringify(rule)}`);
    }
    const { filter, value: v } = rule as { filter?: unknown; value: unknown };
    if (filter !== undefined && typeof filter !== "string")
      throw new Error(`${what}: t[${i}].filter must be a string, got ${JSON.stringify(filter)}`);
    return filter === undefined ? { value: gradient(v, `t[${i}].value`) } : { filter, value: gradient(v, `t[${i}].value`) };
  });
}
