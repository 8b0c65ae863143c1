import { Decoder, encode } from '@msgpack/msgpack';
import { type DaskKey, keyId } from './daskKey.js';

/**
 * Map keys Dask may send that are not strings: numbers, tuples (arrays, e.g. task keys such as
 * `("x", 0)`), `None`, booleans and bytes. Tuples get the id form of `keyId`, so a caller can
 * send them back as tuples; the rest become their Python spelling.
 */
function mapKeyToString(key: unknown): string | number {
  if (typeof key === 'string' || typeof key === 'number') return key;
  if (Array.isArray(key)) return keyId(key as DaskKey[]);
  if (key === null || key === undefined) return 'None';
  if (typeof key === 'boolean') return key ? 'True' : 'False';
  if (key instanceof Uint8Array) return Buffer.from(key).toString('utf8');
  if (typeof key === 'bigint') return key.toString();
  return String(key);
}

// One decoder instance: it caches short map keys (worker field names repeat 1,000 times).
const decoder = new Decoder({ mapKeyConverter: mapKeyToString });

/**
 * Turns Dask's msgpack conventions into plain JS values, in place where possible:
 * - `{"__Set__": true, "as-list": [...]}` (a Python set) → the array;
 * - `{"__Enum__": true, "name": ...}` → the enum member's name;
 * - `{"__Serialized__": i}` / `{"__Pickled__": i}` (out-of-band Python objects, e.g. a pickled
 *   exception) → `undefined`: we never unpickle;
 * - tuples already arrive as arrays.
 */
export function reviveDask(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === 'object' && v !== null) value[i] = reviveDask(v);
    }
    return value;
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  const obj = value as Record<string, unknown>;
  if ('__Serialized__' in obj || '__Pickled__' in obj) return undefined;
  if (obj['__Set__'] === true && Array.isArray(obj['as-list'])) return reviveDask(obj['as-list']);
  if (obj['__Enum__'] === true) return obj['name'];
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'object' && v !== null) obj[k] = reviveDask(v);
  }
  return obj;
}

/**
 * Decodes frame 0 of a Dask message.
 * @throws the msgpack library's `DecodeError`/`RangeError` on bytes that are not msgpack.
 */
export function decodeMessage(frame: Uint8Array): unknown {
  return reviveDask(decoder.decode(frame));
}

/**
 * Encodes a message for frame 0. `undefined` values are left out (Python would not see them).
 * Arrays become msgpack arrays, which Dask reads as tuples — as it expects for tuple task keys.
 */
export function encodeMessage(msg: unknown): Uint8Array {
  return encode(msg, { ignoreUndefined: true });
}
