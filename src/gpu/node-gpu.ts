/** The WebGPU entry point in Node: Dawn through the `webgpu` package (Vulkan, incl. lavapipe/SwiftShader). */
import "./node-globals";
import { create } from "webgpu";

let instance: GPU | undefined;

/** One Dawn instance per process: Dawn instances are heavy, and adapters from one share its driver. */
export function nodeGpu(flags: string[] = []): GPU {
  instance ??= create(flags);
  return instance;
}
