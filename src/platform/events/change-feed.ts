import { randomUUID } from 'node:crypto';
import type { EventBus } from './event-bus.ts';

const CHANNEL = 'records-changed';

/**
 * `ids`: the records that changed, when the writer named them (a whole-table change names
 * none). `local`: announced in this process, not heard from another over the bus.
 */
export interface RecordsChange {
  ids: readonly number[] | undefined;
  local: boolean;
}

type Listener = (change: RecordsChange) => void;

/**
 * "Records of this resource changed", for the processes that keep answers about them
 * (cached lists). This process hears it at once, before the write's request answers; other
 * processes hear it through the event bus (Redis in distributed mode) a moment later.
 */
export class ChangeFeed {
  private readonly source = randomUUID();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly bus: EventBus) {
    this.unsubscribe = bus.subscribe(CHANNEL, (message) => {
      const { resource, source } = (message ?? {}) as { resource?: unknown; source?: unknown };
      // This process's own announcements were delivered when they were made.
      if (typeof resource === 'string' && source !== this.source) {
        this.deliver(resource, { ids: undefined, local: false });
      }
    });
  }

  /** Other processes only drop caches, so the ids stay in this process. */
  announce(resource: string, ids?: readonly number[]): void {
    this.deliver(resource, { ids, local: true });
    void this.bus.publish(CHANNEL, { resource, source: this.source });
  }

  onChange(resource: string, listener: Listener): () => void {
    let listeners = this.listeners.get(resource);
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(resource, listeners);
    }
    listeners.add(listener);
    return () => this.listeners.get(resource)?.delete(listener);
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

  private deliver(resource: string, change: RecordsChange) {
    for (const listener of this.listeners.get(resource) ?? []) listener(change);
  }
}
