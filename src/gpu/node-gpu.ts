/** The WebGPU entry point in Node: Dawn through the `webgpu` package (Vulkan, incl. lavapipe/SwiftShader). */
import "./node-globals";
import { setImmediate } from "node:timers";
import { create } from "webgpu";
import { setGpuWait } from "./gpu-wait";

let instance: GPU | undefined;

/** One Dawn instance per process: Dawn instances are heavy, and adapters from one share its driver. */
export function nodeGpu(flags: string[] = []): GPU {
  if (!instance) {
    instance = create(flags);
    setGpuWait(instance, sleepBetweenPolls);
  }
  return instance;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const pollSleepMs = 0.5;

/**
 * Dawn's Node binding polls for finished GPU work on every turn of the event loop while something is
 * pending, so awaiting a map keeps one core busy. On a CPU Vulkan driver that core is one the driver's
 * own threads need (without the spin, a decode step took about a quarter less time on 2 cores), so the wait sleeps
 * briefly between polls; on a real GPU it adds at most that sleep to each read.
 */
async function sleepBetweenPolls<T>(pending: Promise<T>): Promise<T> {
  let settled = false;
  const done = () => {
    settled = true;
  };
  pending.then(done, done);
  while (!settled) {
    Atomics.wait(sleeper, 0, 0, pollSleepMs);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return pending;
}
