/**
 * The server's events in one place: streams publish, and the SSE clients, webhooks, metrics and
 * library listeners subscribe. Each event gets a sequence number (the SSE `id:`).
 */
import type { ServerEvent } from './types';

export type EventListener = (event: ServerEvent, sequence: number) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private sequence = 0;

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: ServerEvent): void {
    const sequence = ++this.sequence;
    for (const listener of this.listeners) {
      try {
        listener(event, sequence);
      } catch (err) {
        // One subscriber's bug must not stop the others or the stream that published.
        process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'Int8DetectServerWarning');
      }
    }
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}
