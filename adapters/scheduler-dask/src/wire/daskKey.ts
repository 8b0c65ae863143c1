import { keySplit } from '@ebbtide/core';

/**
 * A Dask task key as it travels in msgpack: a string, or a tuple (msgpack array) such as
 * `["x-ab12", 0]` for collection chunks.
 */
export type DaskKey = string | number | DaskKey[];

/**
 * Marks a map key that was a tuple on the wire. JS object keys must be strings, so tuple keys
 * become this prefix plus their JSON; {@link keyFromId} turns them back into the tuple that
 * Dask expects when we send a key back.
 */
const TUPLE_ID_PREFIX = '\u0000tuple:';

/**
 * A stable string for a key: the key itself for strings, a prefixed JSON form for tuples.
 * It is also how tuple keys appear as map keys in decoded replies (see `decodeMessage`).
 */
export function keyId(key: DaskKey): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number') return String(key);
  return TUPLE_ID_PREFIX + JSON.stringify(key);
}

/** The key to send back to Dask for an id made by {@link keyId}. */
export function keyFromId(id: string): DaskKey {
  return id.startsWith(TUPLE_ID_PREFIX) ? (JSON.parse(id.slice(TUPLE_ID_PREFIX.length)) as DaskKey) : id;
}

/** Dask's `key_split`: the task prefix of a key; for a tuple, of its first element. */
export function prefixOfKey(key: DaskKey): string {
  let k: DaskKey = key;
  while (Array.isArray(k)) {
    if (k.length === 0) return '';
    k = k[0]!;
  }
  return keySplit(String(k));
}

/** The prefix of a key given by its id. */
export function prefixOfId(id: string): string {
  return prefixOfKey(keyFromId(id));
}
