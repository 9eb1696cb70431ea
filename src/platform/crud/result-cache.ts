/**
 * Answers kept for a while, within a size budget, least recently used out first. clear()
 * also drops answers still being computed: one that started before a change is not stored.
 */
export class ResultCache<V> {
  private readonly entries = new Map<string, { value: V; size: number; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<V>>();
  private bytes = 0;
  private generation = 0;

  constructor(
    private readonly options: { ttlMs: number; maxBytes: number; sizeOf(value: V): number },
  ) {}

  /** The cached value, or `compute()`'s; callers asking meanwhile share one computation. */
  async get(key: string, compute: () => Promise<V>): Promise<V> {
    if (this.options.ttlMs <= 0) return compute();
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > Date.now()) {
      // Re-inserting moves the key to the end of the Map's order: most recently used.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry.value;
    }
    if (entry) this.remove(key);
    const pending = this.inFlight.get(key);
    if (pending) return pending;

    const generation = this.generation;
    const computation = compute();
    this.inFlight.set(key, computation);
    try {
      const value = await computation;
      if (generation === this.generation) this.store(key, value);
      return value;
    } finally {
      if (this.inFlight.get(key) === computation) this.inFlight.delete(key);
    }
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.inFlight.clear();
    this.bytes = 0;
  }

  private store(key: string, value: V) {
    const size = this.options.sizeOf(value);
    if (size > this.options.maxBytes) return;
    this.remove(key);
    this.entries.set(key, { value, size, expiresAt: Date.now() + this.options.ttlMs });
    this.bytes += size;
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.remove(oldest);
    }
  }

  private remove(key: string) {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.size;
  }
}
