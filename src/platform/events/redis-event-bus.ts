import { Redis } from 'ioredis';
import type { EventBus } from './event-bus.ts';

type Listener = (message: unknown) => void;

export interface RedisEventBusOptions {
  /** Prepended to every channel name; tests use their own so parallel files stay apart. */
  prefix?: string;
  /** How long publish() waits for Redis before giving up on the event (default 1000 ms). */
  publishTimeoutMs?: number;
}

/**
 * The event bus of distributed mode: Redis pub/sub between API and worker processes. One
 * connection publishes, one subscribes (a subscribed Redis connection can do nothing else).
 * Messages are JSON.
 */
export class RedisEventBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly taps = new Map<string, Set<Listener>>();
  private pending: Promise<unknown> = Promise.resolve();

  constructor(url: string, options: RedisEventBusOptions = {}) {
    this.prefix = options.prefix ?? 'registrar:';
    // Auto-pipelining: the events of one turn of the event loop (a batch of jobs changes
    // state together) go to Redis in one write. The command timeout bounds how long an event
    // waits for Redis.
    this.publisher = new Redis(url, {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      enableAutoPipelining: true,
      commandTimeout: options.publishTimeoutMs ?? 1000,
    });
    this.subscriber = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
    // ioredis reconnects by itself; without a listener an 'error' event would crash the process.
    this.publisher.on('error', () => {});
    this.subscriber.on('error', () => {});
    this.subscriber.on('message', (fullChannel: string, raw: string) => {
      const channel = fullChannel.slice(this.prefix.length);
      const listeners = this.listeners.get(channel);
      if (!listeners || listeners.size === 0) return;
      let message: unknown;
      try {
        message = JSON.parse(raw);
      } catch {
        return;
      }
      for (const listener of [...listeners]) listener(message);
    });
  }

  /**
   * Best effort, like the local bus: the database holds the state, so a Redis outage delays
   * live events (waiting at most `publishTimeoutMs`) but never fails or blocks the change.
   */
  async publish(channel: string, message: unknown): Promise<void> {
    for (const tap of this.taps.get(channel) ?? []) tap(message);
    await this.publisher.publish(this.prefix + channel, JSON.stringify(message)).then(
      () => undefined,
      () => undefined,
    );
  }

  subscribe(channel: string, listener: Listener): () => void {
    let listeners = this.listeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(channel, listeners);
    }
    if (listeners.size === 0) this.track(this.subscriber.subscribe(this.prefix + channel));
    listeners.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      if (this.subscriber.status === 'ready') {
        this.track(this.subscriber.unsubscribe(this.prefix + channel));
      }
    };
  }

  /**
   * Calls `listener` with every message this process publishes on `channel`, before it goes
   * out (the job engine mirrors job state to Redis once, from the process that changed it).
   */
  onLocalPublish(channel: string, listener: Listener): () => void {
    let taps = this.taps.get(channel);
    if (!taps) {
      taps = new Set();
      this.taps.set(channel, taps);
    }
    taps.add(listener);
    return () => this.taps.get(channel)?.delete(listener);
  }

  /** Resolves once every subscription asked for so far is active on the Redis server. */
  async whenSubscribed(): Promise<void> {
    await this.pending;
  }

  private track(operation: Promise<unknown>): void {
    this.pending = Promise.all([this.pending, operation.catch(() => undefined)]);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.taps.clear();
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }
}

async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status === 'wait') {
    // lazyConnect and never used: nothing to say goodbye to.
    connection.disconnect();
    return;
  }
  try {
    await connection.quit();
  } catch {
    connection.disconnect();
  }
}
