import { describe, expect, it } from "vitest";
import { interpolationFactorAt, parseInterpolationFactor } from "../../src/merge/interpolation-factor";
import { lerp, mergeWeights, slerp, slerpCoefficients } from "../../src/merge/slerp";
import type { ModelWeights } from "../../src/model/host-tensor";
import { toFloat32 } from "../../src/model/host-tensor";
import { randomLlama } from "../../src/model/random-llama";
import { withRopeLayout } from "../../src/model/rope-layout";
import { dot, expectClose, randn } from "../numerics";

const norm = (v: ArrayLike<number>) => Math.sqrt(dot(v, v));
const scaled = (v: ArrayLike<number>, s: number) => Float64Array.from(v, (x) => x * s);

describe("slerp of two tensors", () => {
  it("moves along the great circle: the normalised combination has norm 1 and angle t·Ω from a", () => {
    for (const [n, seed] of [
      [67, 1],
      [1000, 2],
    ]) {
      // Unequal norms, so a wrong choice between normalised and original tensors shows.
      const a = randn(n, seed, 3);
      const b = randn(n, seed + 10, 0.5);
      const omega = Math.acos(dot(a, b) / (norm(a) * norm(b)));
      for (const t of [0.1, 0.25, 0.5, 0.9]) {
        const { s0, s1, lerp: fellBack } = slerpCoefficients(a, b, t);
        expect(fellBack).toBe(false);
        // The same coefficients on the unit tensors give the point of the arc at angle tΩ.
        const u = Float64Array.from(a, (x, i) => (s0 * x) / norm(a) + (s1 * b[i]) / norm(b));
        expect(norm(u)).toBeCloseTo(1, 12);
        expect(dot(u, a) / norm(a)).toBeCloseTo(Math.cos(t * omega), 12);
        expectClose(
          slerp(a, b, t),
          Float64Array.from(a, (x, i) => s0 * x + s1 * b[i]),
          1e-15,
          0,
          "original tensors combined",
        );
      }
    }
  });

  it("gives cos(tπ/2)·a + sin(tπ/2)·b for orthogonal tensors", () => {
    const a = [3, 0, 0];
    const b = [0, 0.5, 0];
    const t = 0.3;
    expectClose(slerp(a, b, t), [3 * Math.cos((t * Math.PI) / 2), 0.5 * Math.sin((t * Math.PI) / 2), 0], 1e-15, 1e-15);
  });

  it("is exactly a at t = 0 and exactly b at t = 1", () => {
    const a = randn(45, 3);
    const b = randn(45, 4);
    expect(Array.from(slerp(a, b, 0))).toEqual(Array.from(a));
    expect(Array.from(slerp(a, b, 1))).toEqual(Array.from(b));
  });

  it("falls back to LERP for parallel and anti-parallel tensors, and only past |cos Ω| = 0.9995", () => {
    const a = randn(33, 5);
    for (const b of [scaled(a, 3), scaled(a, -2)]) {
      const c = slerpCoefficients(a, b, 0.4);
      expect(c.lerp).toBe(true);
      expect(Number.isFinite(c.s0) && Number.isFinite(c.s1)).toBe(true);
      expectClose(slerp(a, b, 0.4), lerp(a, b, 0.4), 1e-15, 1e-15, "lerp fallback");
    }
    // Orthogonal directions e1, e2: cos Ω of e1 and (cos θ·e1 + sin θ·e2) is cos θ.
    const tilted = (cos: number) => [cos, Math.sqrt(1 - cos * cos)];
    expect(slerpCoefficients([1, 0], tilted(0.9996), 0.5).lerp).toBe(true);
    expect(slerpCoefficients([1, 0], tilted(0.9994), 0.5).lerp).toBe(false);
    expect(slerpCoefficients([1, 0], tilted(-0.9996), 0.5).lerp).toBe(true);
  });

  it("rejects tensors of different sizes", () => {
    expect(() => slerp([1, 2], [1, 2, 3], 0.5)).toThrow(/slerp: tensors differ in size \(2 vs 3\)/);
  });
});

describe("the interpolation factor t (mergekit semantics)", () => {
  const t = parseInterpolationFactor(
    [{ filter: "self_attn", value: [0, 0.5, 0.3, 0.7, 1] }, { filter: "mlp", value: [1, 0.5, 0.7, 0.3, 0] }, { value: 0.5 }],
    "test",
  );

  it("takes the gradient's values at layers 0 … L−1 spread over it, interpolating between them", () => {
    for (let l = 0; l < 5; l++) {
      expect(interpolationFactorAt(t, `model.layers.${l}.self_attn.q_proj.weight`, 5)).toBeCloseTo([0, 0.5, 0.3, 0.7, 1][l], 15);
      expect(interpolationFactorAt(t, `model.layers.${l}.mlp.down_proj.weight`, 5)).toBeCloseTo([1, 0.5, 0.7, 0.3, 0][l], 15);
      expect(interpolationFactorAt(t, `model.layers.${l}.input_layernorm.weight`, 5)).toBe(0.5);
    }
    // 9 layers on a 5-point gradient: layer 1 sits halfway between its first two values.
    expect(interpolationFactorAt(t, "model.layers.1.self_attn.k_proj.weight", 9)).toBeCloseTo(0.25, 15);
    expect(interpolationFactorAt([0.2, 0.8], "model.embed_tokens.weight", 4)).toBe(0.2);
    expect(interpolationFactorAt([0.2, 0.8], "model.layers.3.mlp.up_proj.weight", 4)).toBeCloseTo(0.8, 15);
  });

  it("rejects malformed values and rule lists without a match", () => {
    expect(() => parseInterpolationFactor("0.5", "merge.yaml")).toThrow(
      /merge.yaml: t must be a number or a non-empty list of numbers, got "0.5"/,
    );
    expect(() => parseInterpolationFactor([{ filter: 1, value: 0.5 }], "x")).toThrow(/t\[0\].filter must be a string/);
    expect(() => interpolationFactorAt([{ filter: "mlp", value: 1 }], "model.norm.weight", 2)).toThrow(
      /no rule of t applies to model.norm.weight/,
    );
  });
});

describe("mergeWeights", () => {
  const shape = { hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 3, numAttentionHeads: 2, numKeyValueHeads: 1, vocabSize: 11 };
  const a = randomLlama(shape, 1);
  const b = randomLlama(shape, 2);
  const values = (w: ModelWeights, name: string) =>
    toFloat32(w.tensors.get(name) ?? { dtype: "f32", shape: [0], data: new Float32Array() });

  it("applies each tensor's own factor: attention from a, MLP from b, the rest halfway", () => {
    const merged = mergeWeights(a, b, [{ filter: "self_attn", value: 0 }, { filter: "mlp", value: 1 }, { value: 0.5 }]);
    expect(merged.config).toEqual(a.config);
    expect([...merged.tensors.keys()]).toEqual([...a.tensors.keys()]);
    for (let l = 0; l < 3; l++) {
      const p = `model.layers.${l}`;
      expect(values(merged, `${p}.self_attn.v_proj.weight`)).toEqual(values(a, `${p}.self_attn.v_proj.weight`));
      expect(values(merged, `${p}.mlp.gate_proj.weight`)).toEqual(values(b, `${p}.mlp.gate_proj.weight`));
    }
    const name = "model.norm.weight";
    expectClose(values(merged, name), slerp(values(a, name), values(b, name), 0.5), 1e-7, 0, "f32 rounding of the float64 merge");
  });

  it("LERP merges with (1 − t)·a + t·b", () => {
    const merged = mergeWeights(a, b, 0.3, "lerp");
    const name = "lm_head.weight";
    expectClose(values(merged, name), lerp(values(a, name), values(b, name), 0.3), 1e-7, 1e-7, "f32 rounding");
  });

  it("keeps a's dtype per tensor", () => {
    const name = "model.embed_tokens.weight";
    const half: ModelWeights = { config: a.config, tensors: new Map(a.tensors) };
    const t = a.tensors.get(name);
    if (!t) throw new Error("no embeddings");
    half.tensors.set(name, { dtype: "bf16", shape: t.shape, data: new Uint16Array(t.data.length) });
    expect(mergeWeights(half, b, 0.5).tensors.get(name)?.dtype).toBe("bf16");
  });

  it("brings b to a's RoPE row layout first (a llama2.c file merged with a Hugging Face folder)", () => {
    const interleaved = withRopeLayout(b, true);
    const merged = mergeWeights(interleaved, b, 0.4);
    const same = mergeWeights(interleaved, interleaved, 0.4);
    expect(merged.config.ropeInterleaved).toBe(true);
    for (const name of ["model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight"]) {
      expect(values(merged, name)).toEqual(values(same, name));
    }
  });

  it("rejects models of different architectures, naming the difference", () => {
    const deeper = randomLlama({ ...shape, numHiddenLayers: 4 }, 3);
    expect(() => mergeWeights(a, deeper, 0.5)).toThrow(
      /mergeWeights: the models. architectures differ: a has numHiddenLayers 3; b has numHiddenLayers 4/,
    );
    const missing: ModelWeights = { config: b.config, tensors: new Map(b.tensors) };
    missing.tensors.delete("model.layers.2.mlp.up_proj.weight");
    expect(() => mergeWeights(a, missing, 0.5)).toThrow(/tensor model.layers.2.mlp.up_proj.weight of model a is missing from model b/);
  });
});
