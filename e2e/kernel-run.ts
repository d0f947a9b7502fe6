/** One kernel self-test run on one WebGPU context (page or worker): the adapter it got and every check, as plain data. */
import { acquireGpu } from "../src/gpu/device";
import { type KernelCheck, runKernelChecks } from "./kernel-checks";

export interface KernelRun {
  where: "page" | "worker";
  adapter: string;
  features: string[];
  checks: KernelCheck[];
  /** Set when the run could not happen at all (no adapter, a thrown GPU error). */
  error?: string;
}

export async function runKernels(where: KernelRun["where"]): Promise<KernelRun> {
  try {
    const gpu = await acquireGpu();
    const adapter = [gpu.info.vendor, gpu.info.architecture, gpu.info.description].filter(Boolean).join(" / ");
    try {
      return { where, adapter, features: gpu.info.features, checks: await runKernelChecks(gpu) };
    } finally {
      gpu.destroy();
    }
  } catch (e) {
    return { where, adapter: "", features: [], checks: [], error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}
