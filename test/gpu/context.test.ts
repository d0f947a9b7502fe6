import { describe, expect, it } from "vitest";
import { acquireGpu } from "../../src/gpu/device";
import { GpuDeviceLostError, GpuLimitError, GpuValidationError } from "../../src/gpu/errors";
import { nodeGpu } from "../../src/gpu/node-gpu";
import { testGpu } from "../gpu-harness";

const fixedArray = `// test shader: copies a fixed-size array
struct Params { n: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32, 64>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.n) { dst[g.x] = src[g.x] * p.scale; }
}`;

describe("GPU context", () => {
  it("reports the adapter, its features and the limits it requested", async () => {
    const gpu = await testGpu();
    expect(gpu.info.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(gpu.info.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(gpu.info.features).toContain("timestamp-query");
    expect(gpu.hasF16).toBe(gpu.info.features.includes("shader-f16"));
  });

  it("round-trips f32, u32, i32 and f16 data", async () => {
    const gpu = await testGpu();
    const f = gpu.upload(new Float32Array([1.5, -2, 3e-8]), [3]);
    const u = gpu.upload(new Uint32Array([0, 7, 4294967295]), [3]);
    const i = gpu.upload(new Int32Array([-5, 0, 5]), [3]);
    const h = gpu.uploadF16(new Float32Array([0.5, -1.25, 65504]), [3]);
    expect([...(await gpu.read(f))]).toEqual([1.5, -2, Math.fround(3e-8)]);
    expect([...(await gpu.read(u))]).toEqual([0, 7, 4294967295]);
    expect([...(await gpu.read(i))]).toEqual([-5, 0, 5]);
    expect([...(await gpu.read(h))]).toEqual([0.5, -1.25, 65504]);
    gpu.release(f, u, i, h);
  });

  it("fills uniforms by field name from the WGSL struct and runs a dispatch", async () => {
    const gpu = await testGpu();
    const src = gpu.upload(
      Float32Array.from({ length: 64 }, (_, k) => k),
      [64],
    );
    const dst = gpu.zeros([64]);
    gpu.dispatch({ op: "test.scale", shader: fixedArray, uniforms: { p: { n: 10, scale: 0.5 } }, bindings: { src, dst }, workgroups: [1] });
    const out = await gpu.read(dst);
    expect(out[9]).toBe(4.5);
    expect(out[10]).toBe(0);
    gpu.release(src, dst);
  });

  it("names the missing uniform field and the unbound tensor", async () => {
    const gpu = await testGpu();
    const src = gpu.zeros([64]);
    expect(() =>
      gpu.dispatch({ op: "test.scale", shader: fixedArray, uniforms: { p: { n: 1 } }, bindings: { src, dst: src }, workgroups: [1] }),
    ).toThrow(/missing scale/);
    expect(() =>
      gpu.dispatch({ op: "test.scale", shader: fixedArray, uniforms: { p: { n: 1, scale: 1 } }, bindings: { src }, workgroups: [1] }),
    ).toThrow(/test.scale: no tensor bound to 'dst'/);
    gpu.release(src);
  });

  it("turns a GPU validation error into a typed error naming the op and the tensors", async () => {
    const gpu = await testGpu();
    const small = gpu.zeros([4], "f32", "small");
    const dst = gpu.zeros([64]);
    gpu.dispatch({
      op: "test.too-small",
      shader: fixedArray,
      uniforms: { p: { n: 4, scale: 1 } },
      bindings: { src: small, dst },
      workgroups: [1],
    });
    const error = await gpu.sync().catch((e) => e);
    expect(error).toBeInstanceOf(GpuValidationError);
    expect(error.message).toMatch(/test\.too-small.*small\[4\] f32/);
    gpu.release(small, dst);
  });

  it("refuses tensors and grids over the adapter's limits with the sizes in the message", async () => {
    const gpu = await testGpu();
    const rows = Math.floor(gpu.limits.maxStorageBufferBindingSize / 4096) + 1;
    expect(() => gpu.tensor([rows, 1024], "f32", "huge")).toThrow(GpuLimitError);
    expect(() => gpu.tensor([rows, 1024], "f32", "huge")).toThrow(/huge\[\d+×1024\] f32 needs \d+ bytes/);
    const t = gpu.zeros([64]);
    expect(() =>
      gpu.dispatch({
        op: "test.grid",
        shader: fixedArray,
        uniforms: { p: { n: 1, scale: 1 } },
        bindings: { src: t, dst: t },
        workgroups: [70000],
      }),
    ).toThrow(/test.grid: 70000×1×1 workgroups exceed/);
    gpu.release(t);
  });

  it("an upload into a reused buffer does not overtake recorded work that still reads it", async () => {
    const gpu = await testGpu();
    const first = Float32Array.from({ length: 64 }, (_, k) => k + 1);
    const src = gpu.upload(first, [64]);
    const dst = gpu.zeros([64]);
    gpu.dispatch({ op: "test.scale", shader: fixedArray, uniforms: { p: { n: 64, scale: 2 } }, bindings: { src, dst }, workgroups: [1] });
    gpu.release(src);
    const next = gpu.upload(new Float32Array(64).fill(-1), [64]);
    expect(next.buffer).toBe(src.buffer);
    expect([...(await gpu.read(dst))]).toEqual([...first].map((v) => 2 * v));
    expect((await gpu.read(next))[0]).toBe(-1);
    gpu.release(next, dst);
  });

  it("reuses released buffers of the same size", async () => {
    const gpu = await testGpu();
    const a = gpu.tensor([1000]);
    const before = gpu.memory();
    gpu.release(a);
    const b = gpu.tensor([1000]);
    expect(b.buffer).toBe(a.buffer);
    expect(gpu.memory().liveBytes).toBe(before.liveBytes);
    gpu.release(b);
  });

  it("a lost device gives a typed error, and a new one can be acquired", async () => {
    const gpu = await acquireGpu(nodeGpu());
    gpu.destroy();
    await gpu.device.lost;
    expect(() => gpu.tensor([4])).toThrow(GpuDeviceLostError);
    const again = await acquireGpu(nodeGpu());
    const t = again.upload(new Float32Array([1, 2]), [2]);
    expect([...(await again.read(t))]).toEqual([1, 2]);
    again.destroy();
  });
});
