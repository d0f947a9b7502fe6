/** The GPU badge: the adapter the engine worker got, with its features and limits on demand. */
import { formatBytes } from "../gpu/errors";
import { useWorkbench } from "../store/workbench-store";

const byteLimits = new Set(["maxStorageBufferBindingSize", "maxBufferSize", "maxComputeWorkgroupStorageSize"]);

export function GpuBadge() {
  const gpu = useWorkbench((s) => s.gpu);
  if (gpu.state === "starting") {
    return (
      <span className="badge" data-testid="gpu-badge" data-state="starting">
        GPU: starting…
      </span>
    );
  }
  if (gpu.state === "unavailable") {
    return (
      <span className="badge bad" data-testid="gpu-badge" data-state="unavailable" title={gpu.error.message}>
        GPU: unavailable
      </span>
    );
  }
  const { info } = gpu;
  const name = [info.vendor, info.architecture, info.description || info.device].filter(Boolean).join(" · ") || "WebGPU adapter";
  return (
    <details className="badge-details">
      <summary className="badge good" data-testid="gpu-badge" data-state="ready">
        GPU: {name}
      </summary>
      <div className="badge-panel">
        <h3>Features</h3>
        <p>{info.features.length > 0 ? info.features.join(", ") : "none beyond core WebGPU"}</p>
        {info.features.includes("shader-f16") ? null : <p className="muted">No shader-f16: weights run in f32 (twice the memory).</p>}
        <p>
          <a href={`${import.meta.env.BASE_URL}e2e/kernels.html`} target="_blank" rel="noreferrer">
            Run the kernel self-test
          </a>{" "}
          <span className="muted">(Prunelab's kernels against their CPU references, in a page and a worker)</span>
        </p>
        <h3>Limits</h3>
        <dl className="limits">
          {Object.entries(info.limits).map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{byteLimits.has(name) ? formatBytes(value) : value.toLocaleString()}</dd>
            </div>
          ))}
        </dl>
      </div>
    </details>
  );
}
