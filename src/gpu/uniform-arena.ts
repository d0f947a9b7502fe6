/**
 * Uniform values for a batch of dispatches, packed at 256-byte offsets into a few large buffers and
 * uploaded with one writeBuffer per buffer at submit. After submit the buffers can be refilled:
 * queue writes are ordered after the work already submitted.
 */
const arenaBytes = 64 * 1024;

interface Block {
  buffer: GPUBuffer;
  data: Uint8Array;
  used: number;
}

export class UniformArena {
  private readonly align: number;
  private blocks: Block[] = [];
  private spare: Block[] = [];

  constructor(private readonly device: GPUDevice) {
    this.align = device.limits.minUniformBufferOffsetAlignment;
  }

  write(bytes: Uint8Array): GPUBufferBinding {
    let block = this.blocks.at(-1);
    if (!block || block.used + bytes.byteLength > arenaBytes) {
      block = this.spare.pop() ?? {
        buffer: this.device.createBuffer({ size: arenaBytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: "uniforms" }),
        data: new Uint8Array(arenaBytes),
        used: 0,
      };
      this.blocks.push(block);
    }
    const offset = block.used;
    block.data.set(bytes, offset);
    block.used = Math.ceil((offset + bytes.byteLength) / this.align) * this.align;
    return { buffer: block.buffer, offset, size: bytes.byteLength };
  }

  upload(queue: GPUQueue): void {
    for (const b of this.blocks) queue.writeBuffer(b.buffer, 0, b.data, 0, Math.ceil(b.used / 4) * 4);
  }

  recycle(): void {
    for (const b of this.blocks) b.used = 0;
    this.spare.push(...this.blocks);
    this.blocks = [];
  }
}
