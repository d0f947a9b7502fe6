import { describe, expect, it } from "vitest";
import { createArena, sameLayout, wholeArena } from "../../src/gpu/arena";
import { adamwDefaults, adamwStep, adamwSteps, createAdamWState, createAdamWStates, releaseAdamWStates } from "../../src/ops/adamw";
import { gradNorm, gradNormCpu, gradStatsIndex } from "../../src/ops/grad-norm";
import { testGpu } from "../gpu-harness";
import { expectClose, randn } from "../numerics";

// Shapes whose bytes are not multiples of the 256-byte view alignment, so the arena has gaps.
const shapes = [[3, 5], [1], [67, 45], [8, 33]];

describe("arena", () => {
  it("views are written, read, copied and bound at their offsets; releasing a view keeps the arena", async () => {
    const gpu = await testGpu();
    const packed = createArena(
      gpu,
      shapes.map((shape, i) => ({ shape, label: `t${i}` })),
      "test.arena",
    );
    if (!packed) throw new Error("arena not made");
    const values = shapes.map((s, i) =>
      randn(
        s.reduce((a, b) => a * b, 1),
        10 + i,
      ),
    );
    for (const [i, v] of packed.views.entries()) gpu.write(v, new Uint8Array(values[i].buffer));
    for (const [i, v] of packed.views.entries()) {
      expect((v.offset ?? 0) % 256).toBe(0);
      expect(Array.from(await gpu.read(v))).toEqual(Array.from(values[i]));
    }
    // Copy out of and into a view.
    const copy = gpu.tensor(shapes[2], "f32", "copy");
    gpu.copy(packed.views[2], copy);
    gpu.copy(copy, packed.views[3], 4 * 8, 0, 0);
    expect(Array.from(await gpu.read(copy))).toEqual(Array.from(values[2]));
    expect(Array.from((await gpu.read(packed.views[3])).subarray(0, 8))).toEqual(Array.from(values[2].subarray(0, 8)));
    gpu.release(...packed.views);
    expect(Array.from(await gpu.read(packed.views[0]))).toEqual(Array.from(values[0]));
    expect(wholeArena(packed.views)).toBe(packed.arena);
    expect(wholeArena(packed.views.slice(1))).toBeUndefined();
    gpu.release(copy, packed.arena);
  });

  it("the gradient norm over an arena's views is one launch and equals the per-tensor one", async () => {
    const gpu = await testGpu();
    const packed = createArena(
      gpu,
      shapes.map((shape, i) => ({ shape, label: `g${i}` })),
      "grads",
    );
    if (!packed) throw new Error("arena not made");
    const grads = shapes.map((s, i) =>
      randn(
        s.reduce((a, b) => a * b, 1),
        20 + i,
      ),
    );
    for (const [i, v] of packed.views.entries()) gpu.write(v, new Uint8Array(grads[i].buffer));
    let launches = 0;
    const dispatch = gpu.dispatch.bind(gpu);
    gpu.dispatch = (d) => {
      launches++;
      dispatch(d);
    };
    const stats = await gpu.read(gradNorm(gpu, packed.views, 1));
    gpu.dispatch = dispatch;
    expect(launches).toBe(2);
    const ref = gradNormCpu(grads, 1);
    expectClose([stats[gradStatsIndex.norm], stats[gradStatsIndex.scale]], [ref.norm, ref.scale], 1e-6, 0, "norm, scale");
    gpu.release(packed.arena);
  });

  it("AdamW over arenas (one launch) gives what it gives tensor by tensor", async () => {
    const gpu = await testGpu();
    const hp = { ...adamwDefaults, weightDecay: 0.1, lr: 1e-2 };
    const params = createArena(
      gpu,
      shapes.map((shape, i) => ({ shape, label: `p${i}` })),
      "params",
    );
    const grads = createArena(
      gpu,
      shapes.map((shape, i) => ({ shape, label: `g${i}` })),
      "grads",
    );
    if (!params || !grads) throw new Error("arena not made");
    expect(sameLayout(params.arena, grads.arena)).toBe(true);
    const p0 = shapes.map((s, i) =>
      randn(
        s.reduce((a, b) => a * b, 1),
        30 + i,
      ),
    );
    const separate = p0.map((p, i) => gpu.upload(p, shapes[i]));
    for (const [i, v] of params.views.entries()) gpu.write(v, new Uint8Array(p0[i].buffer));
    const states = createAdamWStates(gpu, params.views);
    expect(wholeArena(states.map((s) => s.m))).toBeDefined();
    const separateStates = separate.map((p) => createAdamWState(gpu, p));
    for (let step = 1; step <= 3; step++) {
      const g = shapes.map((s, i) =>
        randn(
          s.reduce((a, b) => a * b, 1),
          100 * step + i,
        ),
      );
      for (const [i, v] of grads.views.entries()) gpu.write(v, new Uint8Array(g[i].buffer));
      const gs = g.map((x, i) => gpu.upload(x, shapes[i]));
      let launches = 0;
      const dispatch = gpu.dispatch.bind(gpu);
      gpu.dispatch = (d) => {
        launches++;
        dispatch(d);
      };
      adamwSteps(gpu, params.views, grads.views, states, hp, step);
      gpu.dispatch = dispatch;
      expect(launches).toBe(1);
      for (const [i, p] of separate.entries()) adamwStep(gpu, p, gs[i], separateStates[i], hp, step);
      gpu.release(...gs);
    }
    for (let i = 0; i < shapes.length; i++) {
      // The same f32 operations on the same values: bit for bit.
      expect(Array.from(await gpu.read(params.views[i]))).toEqual(Array.from(await gpu.read(separate[i])));
      expect(Array.from(await gpu.read(states[i].v))).toEqual(Array.from(await gpu.read(separateStates[i].v)));
    }
    releaseAdamWStates(gpu, states);
    releaseAdamWStates(gpu, separateStates);
    gpu.release(params.arena, grads.arena, ...separate);
  });
});
