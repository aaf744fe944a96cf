/**
 * A fixed set of reusable items (input buffers) handed out one caller at a time, in FIFO order,
 * so concurrent detect() calls reuse memory instead of allocating a tensor per frame.
 */
export class ItemPool<T> {
  private readonly free: T[];
  private readonly waiting: Array<(item: T) => void> = [];

  constructor(items: T[]) {
    this.free = items.slice();
  }

  acquire(): Promise<T> {
    const item = this.free.pop();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Give an item back (possibly a new object for the same memory, after a transfer). */
  release(item: T): void {
    const next = this.waiting.shift();
    if (next) next(item);
    else this.free.push(item);
  }
}
