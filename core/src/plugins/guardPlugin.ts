import { isEbbtideError, pluginError } from '../errors.js';

/**
 * Wraps an implementation so that a throw (or a rejected promise) from any of its methods becomes
 * a `PLUGIN_ERROR` naming the plugin and the method. Errors that already are `EbbtideError`s of
 * the plugin's own making keep their code as `pluginCode`.
 */
export function guardPlugin<T extends object>(impl: T, plugin: string): T {
  return new Proxy(impl, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      const method = String(prop);
      return function guarded(this: unknown, ...args: unknown[]) {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (e) {
          throw wrap(e);
        }
        if (result instanceof Promise) return result.catch((e: unknown) => Promise.reject(wrap(e)));
        return result;
      };
      function wrap(e: unknown) {
        if (isEbbtideError(e) && e.code === 'PLUGIN_ERROR') return e;
        // Expected, user-facing errors of adapters (unreachable scheduler, backend API) keep their code.
        if (isEbbtideError(e) && (e.code.startsWith('SCHEDULER_') || e.code.startsWith('BACKEND_') || e.code.startsWith('CONFIG_') || e.code === 'CLUSTER_LOCKED')) return e;
        return pluginError(plugin, method, e);
      }
    },
  });
}
