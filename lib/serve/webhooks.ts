/**
 * Webhooks: each event of the chosen types is POSTed as JSON to a URL, one delivery at a time per
 * webhook (so the receiver sees them in order), retried with exponential backoff on a network
 * error, a timeout, a 5xx or a 429. A receiver that is down cannot grow memory without bound: past
 * `MAX_QUEUE` waiting events the oldest are dropped (counted in the metrics).
 */
import type { FastifyBaseLogger } from 'fastify';
import { invalidArgument } from '../util/errors';
import { checkKnownKeys, optionKeys } from '../util/option-keys';
import { redactUrl } from '../video/redact';
import type { EventBus } from './event-bus';
import type { ServerMetrics } from './metrics';
import { SERVER_EVENT_TYPES, type ServerEvent, type ServerEventType, type WebhookOptions } from './types';

const MAX_QUEUE = 1000;
const DEFAULT_EVENTS: readonly ServerEventType[] = ['zone.enter', 'zone.exit', 'line.cross', 'stream.state'];

interface ResolvedWebhook {
  url: string;
  events: Set<ServerEventType>;
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  headers: Record<string, string>;
}

/** Every key of WebhookOptions: a misspelt one ('retry' for 'retries') is refused, not ignored. */
const WEBHOOK_KEYS = optionKeys<WebhookOptions>({ url: true, events: true, retries: true, backoffMs: true, timeoutMs: true, headers: true });

export function resolveWebhook(options: WebhookOptions, where: string): ResolvedWebhook {
  if (typeof options !== 'object' || options === null) throw invalidArgument('a webhook { url, events?, retries? }', where, options);
  checkKnownKeys(options, WEBHOOK_KEYS, where, `${where}.`);
  let parsed: URL;
  try {
    parsed = new URL(String(options.url));
  } catch {
    throw invalidArgument('an http:// or https:// URL', `${where}.url`, typeof options.url === 'string' ? '(a string that does not parse as a URL)' : options.url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidArgument('an http:// or https:// URL', `${where}.url`, parsed.protocol);
  const events = options.events ?? DEFAULT_EVENTS;
  if (!Array.isArray(events) || events.some((e) => !SERVER_EVENT_TYPES.includes(e))) throw invalidArgument(`event types among ${SERVER_EVENT_TYPES.join(', ')}`, `${where}.events`, events);
  const count = (value: unknown, name: string, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalidArgument(`an integer >= ${min}`, `${where}.${name}`, value);
    return value;
  };
  if (options.headers !== undefined && (typeof options.headers !== 'object' || options.headers === null || Object.values(options.headers).some((v) => typeof v !== 'string'))) {
    throw invalidArgument('an object of header strings', `${where}.headers`, options.headers);
  }
  return {
    url: options.url,
    events: new Set(events),
    retries: count(options.retries, 'retries', 3, 0),
    backoffMs: count(options.backoffMs, 'backoffMs', 1000, 1),
    timeoutMs: count(options.timeoutMs, 'timeoutMs', 5000, 1),
    headers: { ...(options.headers ?? {}) },
  };
}

class Webhook {
  private readonly queue: ServerEvent[] = [];
  private sending = false;
  private readonly publicUrl: string;

  constructor(
    private readonly hook: ResolvedWebhook,
    private readonly metrics: ServerMetrics,
    private readonly log: FastifyBaseLogger,
    private readonly signal: AbortSignal,
  ) {
    this.publicUrl = redactUrl(hook.url);
  }

  offer(event: ServerEvent): void {
    if (!this.hook.events.has(event.type)) return;
    if (this.queue.length >= MAX_QUEUE) {
      this.queue.shift();
      this.metrics.webhookDeliveries.inc({ outcome: 'dropped' });
    }
    this.queue.push(event);
    if (!this.sending) void this.drain();
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0 && !this.signal.aborted) await this.deliver(this.queue.shift()!);
    this.sending = false;
  }

  private async deliver(event: ServerEvent): Promise<void> {
    const body = JSON.stringify(event);
    for (let attempt = 0; attempt <= this.hook.retries; attempt++) {
      if (attempt > 0) {
        this.metrics.webhookDeliveries.inc({ outcome: 'retried' });
        const wait = this.hook.backoffMs * 2 ** (attempt - 1);
        const aborted = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), wait);
          this.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(true)), { once: true });
        });
        if (aborted) return;
      }
      let why: string;
      try {
        const response = await fetch(this.hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'int8-detect-serve', ...this.hook.headers },
          body,
          signal: AbortSignal.any([this.signal, AbortSignal.timeout(this.hook.timeoutMs)]),
        });
        // The body is not needed; reading it frees the connection.
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
          return;
        }
        why = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 429) {
          // The receiver refuses this event; sending it again will not change that.
          break;
        }
      } catch (err) {
        if (this.signal.aborted) return;
        why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.hook.timeoutMs} ms` : redactUrl((err as Error).message);
      }
      this.log.warn({ webhook: this.publicUrl, type: event.type, attempt: attempt + 1, reason: why }, 'webhook delivery failed');
    }
    this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
  }

  get idle(): boolean {
    return !this.sending && this.queue.length === 0;
  }
}

/** Subscribe the webhooks to the bus; the returned function stops them (pending deliveries are abandoned). */
export function startWebhooks(options: readonly WebhookOptions[], bus: EventBus, metrics: ServerMetrics, log: FastifyBaseLogger): { stop(): void; idle(): boolean } {
  const controller = new AbortController();
  const hooks = options.map((o, i) => new Webhook(resolveWebhook(o, `webhooks[${i}]`), metrics, log, controller.signal));
  const unsubscribe = hooks.length > 0 ? bus.subscribe((event) => hooks.forEach((h) => h.offer(event))) : () => undefined;
  return {
    stop() {
      unsubscribe();
      controller.abort();
    },
    idle: () => hooks.every((h) => h.idle),
  };
}
