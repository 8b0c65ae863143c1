/**
 * The last few values by key, held strongly, most recent first. For memoizing on objects made
 * per decision (a tick's proposal, a store's view): a WeakMap keyed by them keeps its values
 * reachable through V8's young-generation collections, so every tick's answer would be copied
 * to the old generation and a cache meant to save work would make each collection slower.
 * Here an entry dies with the next few keys instead.
 */
export class RecentCache<K, V> {
  private readonly keys: K[] = [];
  private readonly values: V[] = [];

  constructor(private readonly size = 4) {}

  get(key: K): V | undefined {
    const i = this.keys.indexOf(key);
    if (i < 0) return undefined;
    const value = this.values[i]!;
    if (i > 0) this.move(i, key, value);
    return value;
  }

  set(key: K, value: V): V {
    const i = this.keys.indexOf(key);
    if (i >= 0) {
      this.keys.splice(i, 1);
      this.values.splice(i, 1);
    } else if (this.keys.length >= this.size) {
      this.keys.pop();
      this.values.pop();
    }
    this.keys.unshift(key);
    this.values.unshift(value);
    return value;
  }

  private move(i: number, key: K, value: V): void {
    this.keys.splice(i, 1);
    this.values.splice(i, 1);
    this.keys.unshift(key);
    this.values.unshift(value);
  }
}
