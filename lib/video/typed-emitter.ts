/** A thin typed layer over EventEmitter: event names and payloads checked at compile time. */
import { EventEmitter } from 'node:events';

export class TypedEmitter<Events extends Record<string, (...args: never[]) => void>> {
  private readonly emitter = new EventEmitter();

  on<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    this.emitter.on(event, listener as unknown as (...args: unknown[]) => void);
    return this;
  }

  once<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    this.emitter.once(event, listener as unknown as (...args: unknown[]) => void);
    return this;
  }

  off<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    this.emitter.off(event, listener as unknown as (...args: unknown[]) => void);
    return this;
  }

  listenerCount<E extends keyof Events & string>(event: E): number {
    return this.emitter.listenerCount(event);
  }

  protected emit<E extends keyof Events & string>(event: E, ...args: Parameters<Events[E]>): void {
    this.emitter.emit(event, ...args);
  }
}
