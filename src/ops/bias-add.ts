/**
 * The bias of a Linear layer added to its output rows in place (Qwen2's q/k/v projections), and its
 * float64 CPU reference. Training keeps biases frozen and a bias does not change the gradient of its
 * input, so there is no backward.
 */
// The residual add's kernel, broadcasting x over rows.
import shader from "../../shaders/add-into.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { describe, numel, type Tensor } from "../gpu/tensor";

const workgroupSize = 256;

/** y [..., cols] += bias [cols] on every row; returns y. */
export function addBias(gpu: Gpu, y: Tensor, bias: Tensor): Tensor {
  const cols = bias.shape.at(-1) ?? 0;
  const n = numel(y.shape);
  if (bias.shape.length !== 1 || y.shape.at(-1) !== cols || y.dtype !== "f32" || bias.dtype !== "f32") {
    throw new Error(`addBias: bias ${describe(bias)} must be f32 [cols] with cols the last dimension of f32 y ${describe(y)}`);
  }
  gpu.dispatch({
    op: "addBias",
    shader,
    uniforms: { p: { n, x_len: cols } },
    bindings: { x: bias, y },
    workgroups: grid(Math.ceil(n / workgroupSize)),
  });
  return y;
}

export function addBiasCpu(y: ArrayLike<number>, bias: ArrayLike<number>): Float64Array {
  return Float64Array.from(y, (v, i) => v + bias[i % bias.length]);
}
