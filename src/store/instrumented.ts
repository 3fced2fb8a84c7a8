// A Store that times and traces each round trip (a database client span by OpenTelemetry's conventions, and the
// store latency histogram), for every engine at once. Methods it does not know (a store may grow) pass through.
import type { Telemetry } from '../telemetry/telemetry.js';
import { inSpan, SpanKind } from '../telemetry/tracing.js';
import type { Store, StoreUrl } from './store.js';

/** The round trips worth a span and a timing; `entries` (sweeps, operators) and `close` pass through. */
const ROUND_TRIPS = new Set<string | symbol>(['get', 'getMany', 'getLinked', 'claim', 'replace', 'put', 'delete', 'removeIf']);

/** OpenTelemetry's `db.system.name` for each store. */
const SYSTEM: Record<StoreUrl['kind'], string> = { sqlite: 'sqlite', postgres: 'postgresql', redis: 'redis', memory: 'memory' };

export function instrumentedStore(store: Store, kind: StoreUrl['kind'], telemetry: Telemetry): Store {
  const metrics = telemetry.metrics;
  const system = SYSTEM[kind];
  const wrappers = new Map<string | symbol, (...args: unknown[]) => Promise<unknown>>();
  const wrap = (operation: string, method: (...args: unknown[]) => Promise<unknown>) => {
    const timed = async (args: unknown[]) => {
      const started = performance.now();
      try {
        return await method.apply(store, args);
      } finally {
        metrics?.store(kind, operation, (performance.now() - started) / 1000);
      }
    };
    if (!telemetry.tracing) return (...args: unknown[]) => timed(args);
    const attributes = { 'db.system.name': system, 'db.operation.name': operation };
    return (...args: unknown[]) => inSpan(`${operation} ${system}`, SpanKind.CLIENT, attributes, () => timed(args));
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !ROUND_TRIPS.has(property)) return typeof value === 'function' ? value.bind(target) : value;
      let wrapper = wrappers.get(property);
      if (!wrapper) wrappers.set(property, (wrapper = wrap(String(property), value as (...args: unknown[]) => Promise<unknown>)));
      return wrapper;
    },
  });
}
