/** Shown when the engine could not get a WebGPU adapter: why, and what the user can do about it. */
import { noWebGpuHelp } from "../gpu/device";
import { useWorkbench } from "../store/workbench-store";

export function NoWebGpuNotice() {
  const gpu = useWorkbench((s) => s.gpu);
  if (gpu.state !== "unavailable") return null;
  return (
    <section className="note error banner" role="alert" aria-labelledby="no-webgpu-title">
      <h2 id="no-webgpu-title">Prunelab needs WebGPU, and this browser did not provide it</h2>
      <p>{gpu.navigatorHasGpu ? gpu.error.message : noWebGpuHelp}</p>
      <p className="muted">Meanwhile you can still set up the experiment and share it as a link or a manifest file.</p>
    </section>
  );
}
