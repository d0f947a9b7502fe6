/**
 * Adapter and device acquisition for the browser (`navigator.gpu`) and Node (pass `nodeGpu()`).
 * The limits the kernels rely on are requested explicitly at the adapter's maximum, because the
 * WebGPU defaults (e.g. 128 MiB bindings, 8 storage buffers) are lower than many adapters offer.
 */

import { Gpu, type GpuInfo } from "./context";
import { GpuUnavailableError } from "./errors";
import { gpuWaitFor } from "./gpu-wait";

const wantedFeatures: GPUFeatureName[] = ["shader-f16", "subgroups", "timestamp-query"];

const wantedLimits = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
] as const;

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Leave `shader-f16` off even where the adapter has it (forces the f32 paths). */
  disableF16?: boolean;
}

export const noWebGpuHelp =
  "WebGPU is not available. Use Chrome or Edge 113+ (Linux: start with --enable-unsafe-webgpu, and --enable-features=Vulkan where needed), " +
  "Firefox 141+ on Windows, or Safari 26+. In Node, install a Vulkan driver (Debian: libvulkan1 mesa-vulkan-drivers; " +
  "for tests run scripts/gpu-env.sh, which provides lavapipe or SwiftShader and sets VK_ICD_FILENAMES).";

export async function acquireGpu(gpu: GPU | undefined = globalThis.navigator?.gpu, options: AcquireOptions = {}): Promise<Gpu> {
  if (!gpu) throw new GpuUnavailableError(noWebGpuHelp);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
  if (!adapter) throw new GpuUnavailableError(`No WebGPU adapter was found. ${noWebGpuHelp}`);
  const features = wantedFeatures.filter((f) => adapter.features.has(f) && !(options.disableF16 && f === "shader-f16"));
  const requiredLimits: Record<string, number> = {};
  for (const name of wantedLimits) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits, label: "prunelab" });
  const limits: Record<string, number> = {};
  for (const name of wantedLimits) limits[name] = device.limits[name];
  limits.minStorageBufferOffsetAlignment = device.limits.minStorageBufferOffsetAlignment;
  limits.maxSubgroupSize = adapter.info.subgroupMaxSize ?? 0;
  limits.minSubgroupSize = adapter.info.subgroupMinSize ?? 0;
  const info: GpuInfo = {
    vendor: adapter.info.vendor,
    architecture: adapter.info.architecture,
    device: adapter.info.device,
    description: adapter.info.description,
    features: [...device.features].sort(),
    limits,
  };
  return new Gpu(device, info, adapter, gpuWaitFor(gpu));
}
