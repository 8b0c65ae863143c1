import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { EbbtideError } from '../errors.js';
import { CONFIG, LOGGER, NAME_ARGUMENT, PLUGIN_OPTIONS, RX_SCHEDULER } from '../tokens.js';
import type { Constructor, PluginContext } from './EbbtidePlugin.js';

/** The metadata keys tsyringe (any copy) and TypeScript's `emitDecoratorMetadata` write. */
const INJECTION_TOKENS = 'injectionTokens';
const PARAM_TYPES = 'design:paramtypes';

type Meta = { getOwnMetadata?(key: string, target: object): unknown; getMetadata?(key: string, target: object): unknown };
const reflect = Reflect as unknown as Meta;

/** The value for one of the well-known tokens, matched by value (`Symbol.for` keys are shared by every copy). */
function wellKnown(token: unknown, ctx: PluginContext): { value: unknown } | undefined {
  switch (token) {
    case PLUGIN_OPTIONS:
      return { value: ctx.options };
    case LOGGER:
      return { value: ctx.logger };
    case RX_SCHEDULER:
      return { value: ctx.rxScheduler };
    case CONFIG:
      return { value: ctx.config };
    case NAME_ARGUMENT:
      return { value: ctx.argument };
    default:
      return undefined;
  }
}

/**
 * Builds a class registered by a plugin, whichever copy of tsyringe decorated it.
 *
 * The host's container resolves classes decorated by the host's own tsyringe. A plugin that npm
 * installed elsewhere (next to the config file, in the global prefix) brings its own tsyringe,
 * whose registry the host's cannot see ("TypeInfo not known"). Its decorators still write their
 * metadata through the one global `Reflect` — `injectionTokens` (from `@inject`) and
 * `design:paramtypes` — so the constructor's arguments are read from there: the well-known
 * tokens by value, other classes by the same rule, recursively.
 */
export function constructImplementation<T>(impl: Constructor<T>, ctx: PluginContext, container: DependencyContainer): T {
  try {
    return container.resolve(impl as InjectionToken<T>);
  } catch (e) {
    if (!/TypeInfo not known|Cannot inject the dependency/.test(e instanceof Error ? e.message : String(e))) throw e;
  }
  return fromMetadata(impl, ctx, container, [impl.name]);
}

function fromMetadata<T>(impl: Constructor<T>, ctx: PluginContext, container: DependencyContainer, path: string[]): T {
  const tokens = (reflect.getOwnMetadata?.(INJECTION_TOKENS, impl) ?? {}) as Record<number, unknown>;
  const types = (reflect.getMetadata?.(PARAM_TYPES, impl) ?? []) as unknown[];
  const count = Math.max(impl.length, types.length, ...Object.keys(tokens).map((k) => Number(k) + 1));
  const args: unknown[] = [];
  for (let i = 0; i < count; i++) {
    let token = tokens[i] ?? types[i];
    // `@injectAll` and friends store `{ token, multiple }`; a `delay()` wrapper has `wrap`.
    if (token && typeof token === 'object' && 'token' in token) token = (token as { token: unknown }).token;
    const known = wellKnown(token, ctx);
    if (known) {
      args.push(known.value);
      continue;
    }
    if (typeof token === 'function' && token !== Object && path.length < 8) {
      args.push(fromMetadata(token as Constructor<unknown>, ctx, container, [...path, (token as { name: string }).name]));
      continue;
    }
    if (token !== undefined && container.isRegistered(token as InjectionToken<unknown>, true)) {
      args.push(container.resolve(token as InjectionToken<unknown>));
      continue;
    }
    if (i >= impl.length && token === undefined) break;
    throw new EbbtideError(
      'PLUGIN_INVALID',
      `cannot construct ${path.join(' -> ')}: constructor argument ${i + 1} has no injection token ebbtide knows (${describeToken(token)}); use @inject(PLUGIN_OPTIONS | LOGGER | RX_SCHEDULER | CONFIG | NAME_ARGUMENT), or register a factory`,
    );
  }
  return new impl(...args);
}

function describeToken(token: unknown): string {
  if (token === undefined) return 'no metadata: was the class compiled with emitDecoratorMetadata, or decorated with @inject?';
  if (typeof token === 'symbol') return token.toString();
  if (typeof token === 'function') return `class ${(token as { name: string }).name}`;
  return JSON.stringify(token);
}
