import { expect } from 'chai';
import { decodeMessage, keyFromId, keyId, prefixOfId, prefixOfKey, reviveDask } from '../src/index.js';

/**
 * Frame 0 of `distributed.protocol.core.dumps(msg)` (Dask 2022.12.1, msgpack 1.0.3) for
 * `{("x-1", 0): {"a"}, 3: None, "who": {"w": ["tcp://1"]}, "t": ("block-ab12cd34", 2), "status": Status.running}`:
 * a tuple map key, a set, an int map key, a tuple value and an Enum.
 */
const PYTHON_SHAPES = Buffer.from(
  '8592a3782d310082a75f5f5365745f5fc3a761732d6c69737491a16103c0a377686f81a17791a77463703a2f2f31a17492ae626c6f636b2d616231326364333402a673746174757384a85f5f456e756d5f5fc3a46e616d65a772756e6e696e67aa5f5f6d6f64756c655f5fb064697374726962757465642e636f7265a85f5f6e616d655f5fa6537461747573',
  'hex',
);

describe('Dask msgpack decoding', () => {
  it("decodes Python's shapes: tuple and int map keys, sets, tuples, enums", () => {
    const msg = decodeMessage(PYTHON_SHAPES) as Record<string, unknown>;
    const tupleId = keyId(['x-1', 0]);
    expect(Object.keys(msg)).to.deep.equal(['3', tupleId, 'who', 't', 'status']);
    expect(msg[tupleId]).to.deep.equal(['a']);
    expect(msg['3']).to.equal(null);
    expect(msg['who']).to.deep.equal({ w: ['tcp://1'] });
    expect(msg['t']).to.deep.equal(['block-ab12cd34', 2]);
    expect(msg['status']).to.equal('running');
  });

  it('turns out-of-band placeholders into undefined, at any depth', () => {
    expect(reviveDask({ a: { __Serialized__: 1 }, b: [{ __Pickled__: 2 }, 3] })).to.deep.equal({ a: undefined, b: [undefined, 3] });
  });

  it('round-trips tuple keys through their map-key id, so they can be sent back as tuples', () => {
    const id = keyId(['x-1', 0]);
    expect(keyFromId(id)).to.deep.equal(['x-1', 0]);
    expect(keyFromId('plain-key')).to.equal('plain-key');
    expect(prefixOfId(id)).to.equal('x');
  });

  it("splits prefixes like Dask's key_split, tuples by their first element", () => {
    expect(prefixOfKey('block-ab12cd34ef')).to.equal('block');
    expect(prefixOfKey(['block-ab12cd34', 2])).to.equal('block');
    expect(prefixOfKey('gpu-x')).to.equal('gpu-x');
    expect(prefixOfKey('nap-3')).to.equal('nap');
  });
});
