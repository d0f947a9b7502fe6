/** AdamW with decoupled weight decay and bias correction, in place on the GPU, and its CPU reference. */
import shader from "../../shaders/adamw.wgsl?raw";
import { createArena, sameLayout, wholeArena } from "../gpu/arena";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { describe, expectShape, numel, type Tensor } from "../gpu/tensor";

export interface AdamWHyperparameters {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * torch.optim.AdamW's betas and eps, so a run exported to PyTorch continues with the same optimizer.
 * Weight decay is not here: it is a training setting with one default (TrainConfig.weightDecay,
 * src/train/train-loop.ts: 0, as Hugging Face's Trainer), not torch's bare-optimizer 0.01.
 */
export const adamwDefaults: Omit<AdamWHyperparameters, "lr" | "weightDecay"> = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** First and second moments of one parameter tensor. */
export interface AdamWState {
  m: Tensor;
  v: Tensor;
}

export function createAdamWState(gpu: Gpu, param: Tensor): AdamWState {
  return { m: gpu.zeros(param.shape, "f32", `${param.label}.adam_m`), v: gpu.zeros(param.shape, "f32", `${param.label}.adam_v`) };
}

/**
 * Moments for each parameter; when the parameters are the views of one arena, the moments are too
 * (same layout), so that `adamwSteps` updates them all in one launch.
 */
export function createAdamWStates(gpu: Gpu, params: readonly Tensor[]): AdamWState[] {
  if (wholeArena(params)) {
    const parts = (which: string) => params.map((p) => ({ shape: p.shape, label: `${p.label}.adam_${which}` }));
    const m = createArena(gpu, parts("m"), "adam_m.arena");
    const v = createArena(gpu, parts("v"), "adam_v.arena");
    if (m && v) return params.map((_, i) => ({ m: m.views[i], v: v.views[i] }));
    gpu.release(m?.arena, v?.arena);
  }
  return params.map((p) => createAdamWState(gpu, p));
}

/** Frees the moments made by `createAdamWStates` (and their arenas). */
export function releaseAdamWStates(gpu: Gpu, states: readonly AdamWState[]): void {
  for (const s of states) gpu.release(s.m, s.v, s.m.parent, s.v.parent);
}

/**
 * `adamwStep` for each (param, grad, state): one launch over the arenas when params, grads and both
 * moments are each the views of one arena, all laid out alike; else one launch per tensor. The same
 * update per element either way (the arenas' gaps are zero and stay zero).
 */
export function adamwSteps(
  gpu: Gpu,
  params: readonly Tensor[],
  grads: readonly Tensor[],
  states: readonly AdamWState[],
  hp: AdamWHyperparameters,
  step: number,
  gradStats?: Tensor,
): void {
  const arenas = [params, grads, states.map((s) => s.m), states.map((s) => s.v)].map(wholeArena);
  const [p, g, m, v] = arenas;
  if (p && g && m && v && arenas.every((a) => a && sameLayout(p, a))) {
    adamwStep(gpu, p, g, { m, v }, hp, step, gradStats);
    return;
  }
  for (const [i, param] of params.entries()) adamwStep(gpu, param, grads[i], states[i], hp, step, gradStats);
}

/**
 * One AdamW update of `param` (and its moments) from `grad`; `step` counts from 1. With `gradStats`
 * (the [norm, scale, nonFinite] tensor from `gradNorm`) the gradient is clipped by its scale and the
 * update is skipped on the GPU when the flag is set, so neither needs a readback.
 */
export function adamwStep(
  gpu: Gpu,
  param: Tensor,
  grad: Tensor,
  state: AdamWState,
  hp: AdamWHyperparameters,
  step: number,
  gradStats?: Tensor,
): void {
  for (const [name, t] of [
    ["param", param],
    ["grad", grad],
    ["m", state.m],
    ["v", state.v],
  ] as const) {
    if (t.dtype !== "f32") throw new Error(`adamwStep: ${name} ${describe(t)} must be f32`);
    expectShape("adamwStep", name, t, param.shape);
  }
  if (gradStats) expectShape("adamwStep", "gradStats", gradStats, [3]);
  if (!Number.isInteger(step) || step < 1) throw new Error(`adamwStep: step must be an integer ≥ 1, got ${step}`);
  const n = numel(param.shape);
  gpu.dispatch({
    op: "adamw.step",
    shader,
    entryPoint: gradStats ? "step_guarded" : "step",
    uniforms: {
      p: {
        n,
        lr: hp.lr,
        beta1: hp.beta1,
        beta2: hp.beta2,
        one_minus_beta1: 1 - hp.beta1,
        one_minus_beta2: 1 - hp.beta2,
        eps: hp.eps,
        weight_decay: hp.weightDecay,
        bias_correction1: 1 - hp.beta1 ** step,
        bias_correction2: 1 - hp.beta2 ** step,
      },
    },
    bindings: gradStats ? { param, grad, m: state.m, v: state.v, stats: gradStats } : { param, grad, m: state.m, v: state.v },
    workgroups: grid(Math.ceil(n / 256)),
  });
}

/** CPU reference in float64, in place on param, m and v; `gradScale` multiplies the gradient first. */
export function adamwStepCpu(
  param: Float64Array,
  grad: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  hp: AdamWHyperparameters,
  step: number,
  gradScale = 1,
): void {
  const bc1 = 1 - hp.beta1 ** step;
  const bc2 = 1 - hp.beta2 ** step;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] * gradScale;
    m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * g;
    v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * g * g;
    param[i] = param[i] * (1 - hp.lr * hp.weightDecay) - (hp.lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + hp.eps);
  }
}
