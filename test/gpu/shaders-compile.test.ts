/**
 * Every WGSL file compiles, and every entry point makes a pipeline within the portable limits
 * (the WebGPU defaults: 8 storage buffers per stage, 256 invocations, 16 KiB workgroup memory).
 * Dawn's null backend validates without running, so failures carry WGSL line:column messages.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "webgpu";
import { makeShaderDataDefinitions } from "webgpu-utils";

const dir = join(import.meta.dirname, "../../shaders");
const files = readdirSync(dir).filter((f) => f.endsWith(".wgsl"));

// Dawn tears its devices down when the GPU instance is garbage-collected: keep it referenced.
const instance = create(["backend=null"]);
let device: GPUDevice;

beforeAll(async () => {
  const adapter = await instance.requestAdapter();
  if (!adapter) throw new Error("Dawn's null backend gave no adapter");
  device = await adapter.requestDevice({ requiredFeatures: ["shader-f16", "subgroups"] as GPUFeatureName[] });
});

afterAll(() => device.destroy());

describe("WGSL sources", () => {
  it("exist", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)("%s starts with a header comment, compiles, and builds every entry point portably", async (file) => {
    const code = readFileSync(join(dir, file), "utf8");
    expect(code.trimStart().startsWith("//"), `${file} needs a header comment`).toBe(true);
    const module = device.createShaderModule({ code, label: file });
    const errors = (await module.getCompilationInfo()).messages
      .filter((m) => m.type === "error")
      .map((m) => `${file}:${m.lineNum}:${m.linePos} ${m.message}`);
    expect(errors).toEqual([]);
    for (const entryPoint of Object.keys(makeShaderDataDefinitions(code).entryPoints)) {
      device.pushErrorScope("validation");
      device.createComputePipeline({ layout: "auto", compute: { module, entryPoint } });
      const error = await device.popErrorScope();
      expect(error?.message, `${file} entry point ${entryPoint}`).toBeUndefined();
    }
  });
});
