import { EventEmitter } from 'node:events';

/**
 * Publish/subscribe between the parts of Registrar. In embedded mode everything is one
 * process; in distributed mode a Redis implementation carries the same events between
 * API and worker processes.
 */
export interface EventBus {
  publish(channel: string, message: unknown): Promise<void>;
  /** Returns the function that ends the subscription. */
  subscribe(channel: string, listener: (message: unknown) => void): () => void;
  close(): Promise<void>;
}

export class LocalEventBus implements EventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: string, message: unknown): Promise<void> {
    this.emitter.emit(channel, message);
  }

  subscribe(channel: string, listener: (message: unknown) => void): () => void {
    this.emitter.on(channel, listener);
    return () => this.emitter.off(channel, listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
