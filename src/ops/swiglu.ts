/** SwiGLU, the gated activation of the Llama MLP: forward, backward and their CPU references. */
import shader from "../../shaders/swiglu.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { expectShape, numel, type Tensor } from "../gpu/tensor";

const workgroupSize = 256;

/** out = silu(gate) · up, elementwise; gate and up have the same shape (e.g. [tokens, intermediate]). */
export function swiglu(gpu: Gpu, gate: Tensor, up: Tensor): Tensor {
  expectShape("swiglu", "up", up, gate.shape);
  const n = numel(gate.shape);
  const out = gpu.tensor(gate.shape, "f32", "swiglu.out");
  gpu.dispatch({
    op: "swiglu.forward",
    shader,
    entryPoint: "forward",
    uniforms: { p: { n } },
    bindings: { gate, up, out },
    workgroups: grid(Math.ceil(n / workgroupSize)),
  });
  return out;
}

/** Gradients of gate and up given dOut, from the forward's inputs (recomputing silu is cheaper than saving it). */
export function swigluBackward(gpu: Gpu, dOut: Tensor, gate: Tensor, up: Tensor): { dGate: Tensor; dUp: Tensor } {
  expectShape("swigluBackward", "up", up, gate.shape);
  expectShape("swigluBackward", "dOut", dOut, gate.shape);
  const n = numel(gate.shape);
  const dGate = gpu.tensor(gate.shape, "f32", "swiglu.dGate");
  const dUp = gpu.tensor(gate.shape, "f32", "swiglu.dUp");
  gpu.dispatch({
    op: "swiglu.backward",
    shader,
    entryPoint: "backward",
    uniforms: { p: { n } },
    bindings: { gate, up, dOut, dGate, dUp },
    workgroups: grid(Math.ceil(n / workgroupSize)),
  });
  return { dGate, dUp };
}

const sigmoid = (g: number) => 1 / (1 + Math.exp(-g));

/** CPU reference in float64. */
export function swigluCpu(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  const out = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
  return out;
}

export function swigluBackwardCpu(
  dOut: ArrayLike<number>,
  gate: ArrayLike<number>,
  up: ArrayLike<number>,
): { dGate: Float64Array; dUp: Float64Array } {
  const dGate = new Float64Array(gate.length);
  const dUp = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i];
    const s = sigmoid(g);
    dGate[i] = dOut[i] * up[i] * s * (1 + g * (1 - s));
    dUp[i] = dOut[i] * g * s;
  }
  return { dGate, dUp };
}
