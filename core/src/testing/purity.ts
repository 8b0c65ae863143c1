import assert from 'node:assert/strict';

/**
 * Runs `f` with the clock, timers and randomness trapped: a decision plugin that reads any of
 * them is not pure (it would not replay the same in `ebbtide decide`, the loop and the simulator).
 */
export function withoutClockOrRandomness<T>(what: string, f: () => T): T {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = {
    dateNow: Date.now,
    random: Math.random,
    perfNow: performance.now,
    setTimeout: g.setTimeout,
    setInterval: g.setInterval,
    setImmediate: g.setImmediate,
  };
  const trap = (name: string) => () => {
    throw new Error(`broken guarantee "pure (no I/O, no clock, no randomness)": ${what} called ${name}`);
  };
  Date.now = trap('Date.now') as () => number;
  Math.random = trap('Math.random') as () => number;
  performance.now = trap('performance.now') as () => number;
  g.setTimeout = trap('setTimeout');
  g.setInterval = trap('setInterval');
  g.setImmediate = trap('setImmediate');
  try {
    const out = f();
    assert.ok(
      !(out && typeof (out as { then?: unknown }).then === 'function'),
      `broken guarantee "synchronous": ${what} returned a promise`,
    );
    return out;
  } finally {
    Date.now = saved.dateNow;
    Math.random = saved.random;
    performance.now = saved.perfNow;
    g.setTimeout = saved.setTimeout;
    g.setInterval = saved.setInterval;
    g.setImmediate = saved.setImmediate;
  }
}

/** A deep copy that cannot be changed: a plugin that modifies its input throws in strict mode. */
export function frozenCopy<T>(value: T): T {
  const copy = structuredClone(value);
  const freeze = (v: unknown): void => {
    if (v && typeof v === 'object' && !Object.isFrozen(v)) {
      Object.freeze(v);
      for (const child of Object.values(v)) freeze(child);
    }
  };
  freeze(copy);
  return copy;
}
