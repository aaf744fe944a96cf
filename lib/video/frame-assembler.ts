/**
 * Cuts a decoder's stdout into frames. Pipe reads arrive in chunks (64 KiB on Linux) that do not
 * line up with frames; a frame that lies inside one chunk is handed on as a view of it (no copy),
 * one that spans chunks is copied once, into a buffer from a small free list that the pipeline
 * refills when it is done with a frame, so a long-running stream does not allocate per frame.
 */

export interface FrameLayout {
  width: number;
  height: number;
  bytes: number;
  pts: number;
}

export type FrameHandler = (data: Buffer, layout: FrameLayout, release: () => void) => void;

export class FramePool {
  private readonly free = new Map<number, Buffer[]>();

  constructor(private readonly maxFreePerSize = 8) {}

  acquire(bytes: number): Buffer {
    return this.free.get(bytes)?.pop() ?? Buffer.allocUnsafeSlow(bytes);
  }

  release(buffer: Buffer): void {
    let list = this.free.get(buffer.length);
    if (!list) {
      // A new frame size (the stream changed resolution): the old size's buffers will not be wanted.
      this.free.clear();
      list = [];
      this.free.set(buffer.length, list);
    }
    if (list.length < this.maxFreePerSize) list.push(buffer);
  }
}

export class FrameAssembler {
  private chunks: Buffer[] = [];
  /** Read position in chunks[0]. */
  private offset = 0;
  private buffered = 0;
  private readonly layouts: FrameLayout[] = [];
  private fixed: FrameLayout | undefined;

  constructor(
    private readonly pool: FramePool,
    private readonly onFrame: FrameHandler,
  ) {}

  /** The next frame's size and timestamp (from the decoder's log), in the order frames come. */
  pushLayout(layout: FrameLayout): void {
    this.layouts.push(layout);
    this.drain();
  }

  /** Every frame has this layout (decoders that announce the size once). */
  setFixedLayout(layout: FrameLayout | undefined): void {
    this.fixed = layout;
    this.drain();
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain();
  }

  /** Bytes waiting for a layout or for the rest of their frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Layouts announced whose bytes have not all arrived. */
  get pendingLayouts(): number {
    return this.layouts.length;
  }

  private drain(): void {
    for (;;) {
      const layout = this.layouts[0] ?? this.fixed;
      if (!layout || this.buffered < layout.bytes) return;
      if (layout !== this.fixed) this.layouts.shift();
      this.emit(layout);
    }
  }

  private emit(layout: FrameLayout): void {
    const first = this.chunks[0];
    if (first.length - this.offset >= layout.bytes) {
      const view = first.subarray(this.offset, this.offset + layout.bytes);
      this.consume(layout.bytes);
      this.onFrame(view, layout, () => {});
      return;
    }
    const frame = this.pool.acquire(layout.bytes);
    let filled = 0;
    while (filled < layout.bytes) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.length - this.offset, layout.bytes - filled);
      chunk.copy(frame, filled, this.offset, this.offset + take);
      filled += take;
      this.consume(take);
    }
    this.onFrame(frame, layout, () => this.pool.release(frame));
  }

  private consume(bytes: number): void {
    this.buffered -= bytes;
    this.offset += bytes;
    while (this.chunks.length > 0 && this.offset >= this.chunks[0].length) {
      this.offset -= this.chunks[0].length;
      this.chunks.shift();
    }
  }
}

export function frameBytes(format: 'nv12' | 'bgr', width: number, height: number): number {
  return format === 'nv12' ? width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2) : width * height * 3;
}
