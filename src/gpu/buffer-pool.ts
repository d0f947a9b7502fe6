/**
 * Reuses storage buffers by exact byte size. Training and generation allocate the same sizes step
 * after step, so exact-size free lists hit nearly always and never waste memory on rounding.
 */
const usage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  private liveBytes = 0;
  private pooledBytes = 0;
  private peakBytes = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A free buffer of this size, or a new one made by `create` (which may watch for out-of-memory). */
  acquire(bytes: number, label: string, create = (make: () => GPUBuffer) => make()): GPUBuffer {
    const size = Math.max(4, bytes);
    const reused = this.free.get(size)?.pop();
    if (reused) this.pooledBytes -= size;
    const buffer = reused ?? create(() => this.device.createBuffer({ size, usage: usage(), label }));
    this.live.add(buffer);
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return;
    this.liveBytes -= buffer.size;
    this.pooledBytes += buffer.size;
    const list = this.free.get(buffer.size);
    if (list) list.push(buffer);
    else this.free.set(buffer.size, [buffer]);
  }

  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }

  stats(): { liveBytes: number; pooledBytes: number; peakBytes: number } {
    return { liveBytes: this.liveBytes, pooledBytes: this.pooledBytes, peakBytes: this.peakBytes };
  }
}
