import { LocalEventBus } from '../../platform/events/event-bus.ts';
import { LocalJobEngine } from './engines/local.engine.ts';
import { registerEngineContract } from './jobs.engine-contract.ts';

registerEngineContract('LocalJobEngine', {
  makeBus: () => new LocalEventBus(),
  makeEngine: ({ manager, registry, bus, concurrency, retryBaseDelayMs }) =>
    new LocalJobEngine(manager, registry, bus, {
      concurrency: () => concurrency,
      retryBaseDelayMs,
      pollIntervalMs: 50,
    }),
});
