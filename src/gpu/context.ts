/**
 * The GPU context every op runs through: device, buffer pool, pipeline cache, batched dispatch,
 * readback and typed errors. Dispatches are recorded into one command encoder and submitted in a
 * batch (`flush`), because a submit per dispatch costs more than most kernels here.
 */
import { Float16Array } from "@petamoriken/float16";
import { BufferPool } from "./buffer-pool";
import { GpuDeviceLostError, GpuLimitError, GpuOutOfMemoryError, GpuValidationError } from "./errors";
import type { GpuWait } from "./gpu-wait";
import { PipelineCache } from "./pipeline-cache";
import { type DType, describe, numel, type Tensor, tensorBytes } from "./tensor";
import { UniformArena } from "./uniform-arena";

export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
}

/** One kernel launch: the WGSL source, its entry point, uniform values and storage bindings by name. */
export interface Dispatch {
  /** What is being computed, e.g. "rmsnorm.forward"; named in errors. */
  op: string;
  shader: string;
  entryPoint?: string;
  /** WGSL `override` constants (workgroup sizes, tile shapes). */
  constants?: Record<string, number>;
  /** Values for each `var<uniform>` by variable name; layouts come from the WGSL source. */
  uniforms?: Record<string, Record<string, number | number[]>>;
  /** Storage bindings by variable name. */
  bindings: Record<string, Tensor>;
  workgroups: readonly [number, number?, number?];
}

/** Dispatch count after which the pending batch is submitted without waiting for a read. */
const maxPendingDispatches = 256;

export class Gpu {
  readonly info: GpuInfo;
  readonly hasF16: boolean;
  readonly hasSubgroups: boolean;
  readonly hasTimestamps: boolean;
  readonly limits: GPUSupportedLimits;
  readonly pipelines: PipelineCache;
  private readonly pool: BufferPool;
  private readonly arena: UniformArena;
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  /** The launches recorded into the pending batch, described only if the batch fails. */
  private pendingOps: Dispatch[] = [];
  private staging: GPUBuffer[] = [];
  private checks: Promise<Error | undefined>[] = [];
  private lostError: GpuDeviceLostError | undefined;
  private readonly lostListeners = new Set<(e: GpuDeviceLostError) => void>();

  constructor(
    readonly device: GPUDevice,
    info: GpuInfo,
    /** Held so that Dawn (Node) does not collect the adapter while its device lives. */
    readonly adapter?: GPUAdapter,
    private readonly waitFor: GpuWait = (pending) => pending,
  ) {
    this.info = info;
    this.limits = device.limits;
    this.hasF16 = device.features.has("shader-f16");
    this.hasSubgroups = device.features.has("subgroups");
    this.hasTimestamps = device.features.has("timestamp-query");
    this.pipelines = new PipelineCache(device);
    this.pool = new BufferPool(device);
    this.arena = new UniformArena(device);
    device.lost.then((lost) => {
      this.lostError = new GpuDeviceLostError(lost.reason ?? "unknown", lost.message);
      if (lost.reason === "destroyed") return;
      for (const listener of this.lostListeners) listener(this.lostError);
    });
  }

  get lost(): boolean {
    return this.lostError !== undefined;
  }

  /** Called once if the device is lost for any reason other than `destroy()`; acquire a new Gpu to go on. */
  onLost(listener: (e: GpuDeviceLostError) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** An uninitialised tensor from the pool; the op that writes it must write every element. */
  tensor(shape: readonly number[], dtype: DType = "f32", label = "tensor"): Tensor {
    this.throwIfLost();
    const bytes = tensorBytes(shape, dtype);
    const limit = this.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new GpuLimitError(
        `${label}[${shape.join("×")}] ${dtype} needs ${bytes} bytes, over this adapter's maxStorageBufferBindingSize ${limit}; split it`,
      );
    }
    // Only a new buffer can run out of memory; a pooled one costs no error scope.
    const buffer = this.pool.acquire(bytes, label, (create) => {
      this.device.pushErrorScope("out-of-memory");
      const created = create();
      this.watch(this.device.popErrorScope(), (msg) => new GpuOutOfMemoryError(`${label}[${shape.join("×")}] ${dtype}`, bytes, msg));
      return created;
    });
    return { buffer, shape: [...shape], dtype, label };
  }

  zeros(shape: readonly number[], dtype: DType = "f32", label = "zeros"): Tensor {
    const t = this.tensor(shape, dtype, label);
    this.endPass();
    this.commandEncoder().clearBuffer(t.buffer, 0, tensorBytes(shape, dtype));
    return t;
  }

  upload(data: Float32Array | Uint32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType, label = "upload"): Tensor {
    const type: DType =
      dtype ?? (data instanceof Float32Array ? "f32" : data instanceof Uint32Array ? "u32" : data instanceof Int32Array ? "i32" : "f16");
    if (numel(shape) !== data.length) {
      throw new Error(`upload ${label}: ${data.length} values do not fill shape [${shape.join(", ")}]`);
    }
    const t = this.tensor(shape, type, label);
    this.write(t, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return t;
  }

  /**
   * Writes bytes into a tensor in stream order. `queue.writeBuffer` would land before work that is
   * recorded but not yet submitted, which may still read this (pooled, reused) buffer; so while a
   * batch is pending the bytes go through a staging buffer copied inside the batch.
   */
  write(t: Tensor, bytes: Uint8Array): void {
    const size = Math.ceil(bytes.byteLength / 4) * 4;
    if (!this.encoder) {
      if (size === bytes.byteLength) this.device.queue.writeBuffer(t.buffer, t.offset ?? 0, bytes);
      else this.device.queue.writeBuffer(t.buffer, t.offset ?? 0, padTo(bytes, size));
      return;
    }
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true, label: `stage ${t.label}` });
    new Uint8Array(staging.getMappedRange()).set(bytes);
    staging.unmap();
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(staging, 0, t.buffer, t.offset ?? 0, size);
    this.staging.push(staging);
  }

  /** Uploads f32 values as f16 (round to nearest even). */
  uploadF16(data: Float32Array, shape: readonly number[], label = "upload"): Tensor {
    return this.upload(new Uint16Array(new Float16Array(data).buffer), shape, "f16", label);
  }

  /** Returns the buffer to the pool (views: nothing; their parent owns it). The tensor must not be used afterwards. */
  release(...tensors: (Tensor | undefined)[]): void {
    for (const t of tensors) if (t && !t.parent) this.pool.release(t.buffer);
  }

  /** Records one kernel launch into the pending batch. */
  dispatch(d: Dispatch): void {
    this.throwIfLost();
    const [x, y = 1, z = 1] = d.workgroups;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new GpuLimitError(`${d.op}: ${x}×${y}×${z} workgroups exceed the adapter's ${maxDim} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const entryPoint = d.entryPoint ?? "main";
    const { pipeline, layout, defs } = this.pipelines.get(d.shader, entryPoint, d.constants);
    const entries: GPUBindGroupEntry[] = [];
    for (const res of defs.entryPoints[entryPoint]?.resources ?? []) {
      const binding = res.entry.binding;
      if (res.name in defs.uniforms) {
        const values = d.uniforms?.[res.name];
        if (!values) throw new Error(`${d.op}: no values given for uniform '${res.name}'`);
        entries.push({ binding, resource: this.arena.write(this.pipelines.uniformBytes(d.shader, res.name, values)) });
      } else {
        const t = d.bindings[res.name];
        if (!t) throw new Error(`${d.op}: no tensor bound to '${res.name}'`);
        entries.push({ binding, resource: { buffer: t.buffer, offset: t.offset ?? 0, size: tensorBytes(t.shape, t.dtype) } });
      }
    }
    // Validation is watched once per batch (see commandEncoder): a scope per launch cost as much host
    // time as the launch itself. The bind group's label lets a batch error name the launch.
    const bindGroup = this.device.createBindGroup({ label: d.op, layout, entries });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.pendingOps.push(d);
    if (this.pendingOps.length >= maxPendingDispatches) this.flush();
  }

  /** Copies `bytes` from one tensor to another (outside any compute pass). */
  copy(src: Tensor, dst: Tensor, bytes = tensorBytes(src.shape, src.dtype), srcOffset = 0, dstOffset = 0): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src.buffer, (src.offset ?? 0) + srcOffset, dst.buffer, (dst.offset ?? 0) + dstOffset, bytes);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const ops = this.pendingOps;
    this.device.pushErrorScope("out-of-memory");
    this.arena.upload(this.device.queue);
    this.device.queue.submit([this.encoder.finish()]);
    this.watch(this.device.popErrorScope(), (msg) => new GpuOutOfMemoryError(`a batch of ${ops.length} ops`, 0, msg));
    this.watch(this.device.popErrorScope(), (msg) => batchValidationError(ops, msg));
    this.encoder = undefined;
    this.pendingOps = [];
    for (const b of this.staging) b.destroy();
    this.staging = [];
    this.arena.recycle();
  }

  /** Waits for all submitted work and throws the first error any of it raised. */
  async sync(): Promise<void> {
    this.flush();
    await this.waitFor(this.device.queue.onSubmittedWorkDone());
    await this.throwPendingErrors();
  }

  async read(t: Tensor): Promise<Float32Array | Uint32Array | Int32Array> {
    const bytes = tensorBytes(t.shape, t.dtype);
    const staging = this.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: `read ${t.label}`,
    });
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(t.buffer, t.offset ?? 0, staging, 0, bytes);
    this.flush();
    try {
      await this.waitFor(staging.mapAsync(GPUMapMode.READ));
    } catch (e) {
      this.throwIfLost();
      throw e;
    }
    const copy = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    await this.throwPendingErrors();
    const n = numel(t.shape);
    switch (t.dtype) {
      case "f32":
        return new Float32Array(copy, 0, n);
      case "u32":
        return new Uint32Array(copy, 0, n);
      case "i32":
        return new Int32Array(copy, 0, n);
      case "f16":
        return Float32Array.from(new Float16Array(copy, 0, n));
    }
  }

  async readF32(t: Tensor): Promise<Float32Array> {
    const v = await this.read(t);
    return v instanceof Float32Array ? v : Float32Array.from(v);
  }

  /** Bytes held by live tensors and by the pool's free lists. */
  memory(): { liveBytes: number; pooledBytes: number; peakBytes: number } {
    return this.pool.stats();
  }

  /** Frees pooled (unused) buffers. */
  trim(): void {
    this.pool.trim();
  }

  destroy(): void {
    this.pool.trim();
    this.device.destroy();
  }

  /** The pending batch's encoder; a validation scope stays open from its first command until its submit. */
  private commandEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope("validation");
      this.encoder = this.device.createCommandEncoder();
    }
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  private watch(scope: Promise<GPUError | null>, toError: (message: string) => Error): void {
    this.checks.push(scope.then((e) => (e ? toError(e.message) : undefined)));
  }

  private async throwPendingErrors(): Promise<void> {
    const checks = this.checks;
    this.checks = [];
    const errors = (await Promise.all(checks)).filter((e) => e !== undefined);
    this.throwIfLost();
    if (errors.length > 0) throw errors[0];
  }

  private throwIfLost(): void {
    if (this.lostError) throw this.lostError;
  }
}

/** Names the launch Dawn's message points at (by its bind group's label) with its tensors, else the batch. */
function batchValidationError(ops: readonly Dispatch[], message: string): GpuValidationError {
  const describeOp = (d: Dispatch) =>
    `${d.op}(${Object.entries(d.bindings)
      .map(([name, t]) => `${name}=${describe(t)}`)
      .join(", ")})`;
  const culprit = ops.find((d) => message.includes(`"${d.op}"`));
  if (culprit) return new GpuValidationError(culprit.op, describeOp(culprit), message);
  const shown = ops.slice(0, 4).map(describeOp).join("; ");
  return new GpuValidationError("a batch", ops.length > 4 ? `${shown} … ${ops.length} ops` : shown || "no launches", message);
}

function padTo(bytes: Uint8Array, size: number): Uint8Array {
  const padded = new Uint8Array(size);
  padded.set(bytes);
  return padded;
}
