/**
 * How a Gpu waits for its device (a buffer map, queued work done). By default a plain await; an entry
 * point whose WebGPU implementation needs another way registers it for the GPU object it creates
 * (see node-gpu.ts).
 */
export type GpuWait = <T>(pending: Promise<T>) => Promise<T>;

const waits = new WeakMap<GPU, GpuWait>();

export function setGpuWait(gpu: GPU, wait: GpuWait): void {
  waits.set(gpu, wait);
}

export function gpuWaitFor(gpu: GPU): GpuWait | undefined {
  return waits.get(gpu);
}
