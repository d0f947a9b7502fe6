import { describe, expect, it } from "vitest";
import type { HostTensor } from "../../src/model/host-tensor";
import { randomLlama } from "../../src/model/random-llama";
import { permuteRopeRows, withRopeLayout } from "../../src/model/rope-layout";
import { expectClose, randn } from "../numerics";
import { tinyLlamaShape } from "./tiny-llama";

/** Row-major [rows, cols] · x[cols]. */
function project(w: HostTensor, x: Float32Array): Float64Array {
  const [rows, cols] = w.shape;
  return Float64Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let c = 0; c < cols; c++) s += w.data[r * cols + c] * x[c];
    return s;
  });
}

/** RoPE at position `pos` of one head vector, in either convention, written from the two papers' formulas. */
function rotate(v: Float64Array, pos: number, interleaved: boolean): Float64Array {
  const d = v.length;
  const out = new Float64Array(d);
  for (let i = 0; i < d / 2; i++) {
    const angle = pos * 10000 ** ((-2 * i) / d);
    const [a, b] = interleaved ? [2 * i, 2 * i + 1] : [i, i + d / 2];
    out[a] = v[a] * Math.cos(angle) - v[b] * Math.sin(angle);
    out[b] = v[a] * Math.sin(angle) + v[b] * Math.cos(angle);
  }
  return out;
}

/** q·k attention logits of every query head against its GQA key head, for tokens at positions 3 and 11. */
function scores(wq: HostTensor, wk: HostTensor, headDim: number, interleaved: boolean, xq: Float32Array, xk: Float32Array): number[] {
  const q = project(wq, xq);
  const k = project(wk, xk);
  const heads = wq.shape[0] / headDim;
  const group = heads / (wk.shape[0] / headDim);
  const out: number[] = [];
  for (let h = 0; h < heads; h++) {
    const kh = Math.floor(h / group);
    const qr = rotate(q.subarray(h * headDim, (h + 1) * headDim), 11, interleaved);
    const kr = rotate(k.subarray(kh * headDim, (kh + 1) * headDim), 3, interleaved);
    out.push(qr.reduce((s, v, i) => s + v * kr[i], 0));
  }
  return out;
}

describe("RoPE layouts", () => {
  it.each([4, 8, 64])("HF rotate_half and Meta interleaved give the same attention logits (head_dim %i)", (headDim) => {
    const hidden = 20;
    const wq: HostTensor = { dtype: "f32", shape: [4 * headDim, hidden], data: randn(4 * headDim * hidden, headDim) };
    const wk: HostTensor = { dtype: "f32", shape: [2 * headDim, hidden], data: randn(2 * headDim * hidden, headDim + 1) };
    const [xq, xk] = [randn(hidden, 5), randn(hidden, 6)];
    const hf = scores(wq, wk, headDim, false, xq, xk);
    const meta = scores(permuteRopeRows(wq, headDim, true), permuteRopeRows(wk, headDim, true), headDim, true, xq, xk);
    // Both sides are the same float64 sums in a different order.
    expectClose(meta, hf, 1e-12, 1e-12, "logits");
    // Not a vacuous check: without the permutation the logits differ.
    const unpermuted = scores(wq, wk, headDim, true, xq, xk);
    expect(unpermuted.some((v, i) => Math.abs(v - hf[i]) > 1e-3)).toBe(true);
  });

  it("permuting to interleaved and back is the identity, and matches llama.cpp's permute on a small case", () => {
    const t: HostTensor = { dtype: "f32", shape: [8, 1], data: Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7) };
    // llama.cpp: w.reshape(n_head, 2, D/2, cols).swapaxes(1, 2): per head of 4 rows [0,1,2,3] → [0,2,1,3].
    expect([...permuteRopeRows(t, 4, true).data]).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect(permuteRopeRows(permuteRopeRows(t, 4, true), 4, false)).toEqual(t);
  });

  it("withRopeLayout permutes only q/k of every layer and flips the config flag", () => {
    const weights = randomLlama(tinyLlamaShape);
    const meta = withRopeLayout(weights, true);
    expect(meta.config.ropeInterleaved).toBe(true);
    expect(meta.tensors.get("model.layers.1.self_attn.k_proj.weight")).toEqual(
      permuteRopeRows(weights.tensors.get("model.layers.1.self_attn.k_proj.weight") as HostTensor, 4, true),
    );
    expect(meta.tensors.get("model.layers.1.self_attn.v_proj.weight")).toBe(weights.tensors.get("model.layers.1.self_attn.v_proj.weight"));
    expect(withRopeLayout(meta, false)).toEqual(weights);
  });
});
