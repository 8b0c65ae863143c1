/**
 * The last few values by key, held strongly, most recent first. For memoizing on objects made
 * per decision (a tick's proposal, a store's view): keyed by them, a WeakMap's values were
 * measured to outlive their keys through V8's young-generation collections (Node 20), so every
 * tick's answer was copied to the old generation and a cache meant to save work made each
 * collection slower. Here an entry dies with the next few keys instead.
 */
export class RecentCache<K, V> {
  private readonly keys: K[] = [];
  private readonly values: V[] = [];

  constructor(private readonly size = 4) {}

  get(key: K): V | undefined {
    const i = this.keys.indexOf(key);
    if (i < 0) return undefined;
    const value = this.values[i]!;
    this.toFront(i, key, value);
    return value;
  }

  set(key: K, value: V): V {
    let i = this.keys.indexOf(key);
    if (i < 0) {
      // A new key takes the last place (dropping the least recent when full), then moves up.
      i = this.keys.length < this.size ? this.keys.length : this.keys.length - 1;
    }
    this.toFront(i, key, value);
    return value;
  }

  /** Puts `key` first, moving the entries before place `i` down one (no arrays made: it runs every tick). */
  private toFront(i: number, key: K, value: V): void {
    for (let j = i; j > 0; j--) {
      this.keys[j] = this.keys[j - 1]!;
      this.values[j] = this.values[j - 1]!;
    }
    this.keys[0] = key;
    this.values[0] = value;
  }
}
