import { expect } from 'chai';
import { CLIENT_HANDSHAKE, FrameReader, FramingError, decodeMessage, encodeFrames, encodeMessage, splitFrames } from '../src/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** spec/toolchain.md §2.2: the client handshake bytes that a real 2022.12 scheduler accepted. */
const HANDSHAKE_WIRE = hex(`
  3a00000000000000 0100000000000000 2a00000000000000
  83 ab${Buffer.from('compression').toString('hex')} c0 a6${Buffer.from('python').toString('hex')} 93 03 0b 02
  af${Buffer.from('pickle-protocol').toString('hex')} 05`);

/** spec/toolchain.md §2.3: `{"op": "identity", "reply": true}` on the wire. */
const IDENTITY_WIRE = hex('2400000000000000 0100000000000000 1400000000000000 82a26f70a86964656e74697479a57265706c79c3');

/**
 * An error reply exactly as Dask 2022.12 writes it (two frames: msgpack, then the pickled
 * exception): produced by `distributed.protocol.core.dumps` + `pack_frames_prelude`.
 */
const ERROR_REPLY_WIRE = hex(
  '0d0100000000000002000000000000006300000000000000920000000000000084a6737461747573ae756e6361756768742d6572726f72a9657863657074696f6e81ab5f5f5069636b6c65645f5f01ae657863657074696f6e5f74657874b256616c75654572726f722827626f6f6d2729ae74726163656261636b5f74657874a2746283ab7069636b6c65642d6f626ac4668005955b000000000000008c1674626c69622e7069636b6c696e675f737570706f7274948c12756e7069636b6c655f657863657074696f6e949394288c086275696c74696e73948c0a56616c75654572726f729493948c04626f6f6d9485944e4e749452942eab636f6d7072657373696f6e90ae6e756d2d7375622d6672616d657300',
);

describe('Dask framing (toolchain.md §2 byte fixtures)', () => {
  it('encodes the client handshake to the exact bytes a real scheduler accepted', () => {
    expect(encodeFrames([encodeMessage({ ...CLIENT_HANDSHAKE })]).toString('hex')).to.equal(HANDSHAKE_WIRE.toString('hex'));
  });

  it('encodes {op: identity, reply: true} to the bytes Python produces', () => {
    expect(encodeFrames([encodeMessage({ op: 'identity', reply: true })]).toString('hex')).to.equal(IDENTITY_WIRE.toString('hex'));
  });

  it('reads a message delivered one byte at a time', () => {
    const reader = new FrameReader();
    const got: Buffer[][] = [];
    for (const b of IDENTITY_WIRE) got.push(...reader.push(Uint8Array.of(b)));
    expect(got).to.have.length(1);
    expect(decodeMessage(got[0]![0]!)).to.deep.equal({ op: 'identity', reply: true });
    expect(reader.pendingBytes).to.equal(0);
  });

  it('reads two messages from one chunk and keeps a partial third', () => {
    const reader = new FrameReader();
    const chunk = Buffer.concat([HANDSHAKE_WIRE, IDENTITY_WIRE, IDENTITY_WIRE.subarray(0, 10)]);
    const got = reader.push(chunk);
    expect(got.map((m) => decodeMessage(m[0]!))).to.deep.equal([
      { compression: null, python: [3, 11, 2], 'pickle-protocol': 5 },
      { op: 'identity', reply: true },
    ]);
    expect(reader.pendingBytes).to.equal(10);
    expect(reader.push(IDENTITY_WIRE.subarray(10))).to.have.length(1);
  });

  it('splits a multi-frame error reply and decodes frame 0, dropping the pickled exception', () => {
    const [frames] = new FrameReader().push(ERROR_REPLY_WIRE);
    expect(frames!.map((f) => f.byteLength)).to.deep.equal([99, 146]);
    expect(decodeMessage(frames![0]!)).to.deep.equal({
      status: 'uncaught-error',
      exception: undefined,
      exception_text: "ValueError('boom')",
      traceback_text: 'tb',
    });
  });

  it('rejects bytes from a peer that is not speaking Dask (an HTTP response)', () => {
    const http = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    expect(() => new FrameReader().push(http)).to.throw(FramingError, /length field/);
  });

  it('rejects a frame table that does not add up to the message length', () => {
    const broken = Buffer.from(IDENTITY_WIRE);
    broken.writeBigUInt64LE(19n, 16); // frame length 19 instead of 20
    expect(() => new FrameReader().push(broken)).to.throw(FramingError, /add up/);
    expect(() => splitFrames(Buffer.alloc(4))).to.throw(FramingError, /no frame count/);
  });
});
