/** y += x elementwise on the GPU: where two gradient paths meet (residual stream, micro-batch accumulation). */
import shader from "../../shaders/add-into.wgsl?raw";
import type { Gpu } from "../gpu/context";
import { grid } from "../gpu/grid";
import { describe, numel, type Tensor } from "../gpu/tensor";

const workgroupSize = 256;

/** Adds x into y in place (same element count, both f32) and returns y. */
export function addInto(gpu: Gpu, y: Tensor, x: Tensor): Tensor {
  const n = numel(y.shape);
  if (numel(x.shape) !== n || x.dtype !== "f32" || y.dtype !== "f32") {
    throw new Error(`addInto: x ${describe(x)} and y ${describe(y)} must be f32 with the same element count`);
  }
  gpu.dispatch({
    op: "addInto",
    shader,
    uniforms: { p: { n, x_len: n } },
    bindings: { x, y },
    workgroups: grid(Math.ceil(n / workgroupSize)),
  });
  return y;
}
