import { expect } from 'chai';
import { ChunkReleaser } from '../src/protocol/ChunkReleaser.js';
import { FrameDecoder, LARGE_BODY_BYTES, encodeFrame } from '../src/protocol/frames.js';
import { OPS, checkMessage } from '../src/protocol/messages.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('frames', () => {
  it('encodes a u32 big-endian body length followed by the JSON body', () => {
    const frame = encodeFrame({ op: 'free', keys: ['é'] });
    const body = JSON.stringify({ op: 'free', keys: ['é'] });
    expect(frame.readUInt32BE(0)).to.equal(Buffer.byteLength(body));
    expect(frame.subarray(4).toString('utf8')).to.equal(body);
  });

  it('decodes frames split at every byte boundary and several frames in one chunk', () => {
    const a = encodeFrame({ op: 'free', keys: ['a'] });
    const b = encodeFrame({ op: 'close', reason: 'x'.repeat(300) });
    const bytes = Buffer.concat([a, b, a]);
    const decoder = new FrameDecoder();
    const out = [];
    for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)));
    expect(out.map((m) => m.op)).to.deep.equal(['free', 'close', 'free']);
    expect(new FrameDecoder().push(bytes).map((m) => m.op)).to.deep.equal(['free', 'close', 'free']);
  });

  it('refuses a zero or oversized length, bad JSON, non-objects and a missing op', () => {
    const len = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const body = (s: string) => Buffer.concat([len(Buffer.byteLength(s)), Buffer.from(s)]);
    expect(codeOf(() => new FrameDecoder(10).push(len(0)))).to.equal('SCHEDULER_PROTOCOL');
    expect(codeOf(() => new FrameDecoder(10).push(len(11)))).to.equal('SCHEDULER_PROTOCOL');
    expect(codeOf(() => new FrameDecoder().push(body('{')))).to.equal('SCHEDULER_PROTOCOL');
    expect(codeOf(() => new FrameDecoder().push(body('"op"')))).to.equal('SCHEDULER_PROTOCOL');
    expect(codeOf(() => new FrameDecoder().push(body('{"op":""}')))).to.equal('SCHEDULER_PROTOCOL');
    expect(codeOf(() => encodeFrame({ op: 'close', reason: 'x'.repeat(100) }, 50))).to.equal('SCHEDULER_PROTOCOL');
  });
});

describe('FrameDecoder memory', () => {
  const big = { op: 'put-data', id: 1, keys: ['k'], values: ['v'.repeat(3 * LARGE_BODY_BYTES)] };

  it('decodes a large body arriving in pieces, counting what it holds, and holds nothing after', () => {
    const frame = encodeFrame(big);
    const decoder = new FrameDecoder();
    const out = [];
    for (let at = 0; at < frame.length; at += 10_000) {
      out.push(...decoder.push(frame.subarray(at, at + 10_000)));
      if (at + 10_000 < frame.length) expect(decoder.buffered).to.equal(at + 10_000 - 4);
    }
    expect(out).to.deep.equal([big]);
    expect(decoder.buffered).to.equal(0);
  });

  it('returns one message at a time, so the limit can change between two frames', () => {
    const small = encodeFrame({ op: 'free', keys: ['a'] });
    const decoder = new FrameDecoder(64);
    decoder.write(Buffer.concat([small, encodeFrame(big)]));
    expect(decoder.next()).to.deep.equal({ op: 'free', keys: ['a'] });
    decoder.setMaxFrameBytes(1024 * 1024);
    expect(decoder.next()).to.deep.equal(big);
    expect(decoder.next()).to.equal(undefined);
  });

  it('clear() drops a partial large body', () => {
    const frame = encodeFrame(big);
    const decoder = new FrameDecoder();
    decoder.push(frame.subarray(0, 100_000));
    expect(decoder.buffered).to.equal(100_000 - 4);
    decoder.clear();
    expect(decoder.buffered).to.equal(0);
    expect(decoder.push(encodeFrame({ op: 'free', keys: [] }))).to.deep.equal([{ op: 'free', keys: [] }]);
  });

  it('with a releaser, frees the chunks copied into a large body (only chunks that own their memory)', () => {
    const frame = encodeFrame(big);
    const owned = Buffer.from(frame.subarray(4, 4 + 70_000));
    const slice = frame.subarray(4 + 70_000);
    const decoder = new FrameDecoder(undefined, new ChunkReleaser());
    decoder.write(frame.subarray(0, 4));
    expect(decoder.next()).to.equal(undefined);
    decoder.write(owned);
    expect(owned.length, 'an owned chunk copied in is detached').to.equal(0);
    decoder.write(slice);
    expect(slice.length, 'a slice of a larger buffer is left alone').to.equal(frame.length - 4 - 70_000);
    expect(decoder.next()).to.deep.equal(big);
  });
});

describe('checkMessage', () => {
  it('accepts a well-formed message allowed at this stage', () => {
    const m = checkMessage({ op: 'submit', id: 1, key: 'k-1', fn: '/x.js#f', args: [1] }, OPS.fromClient);
    expect(m.op).to.equal('submit');
  });

  it('names the unknown op, the stage violation, or the bad field', () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(message(() => checkMessage({ op: 'nope' }, OPS.fromClient))).to.contain('unknown op "nope"');
    expect(message(() => checkMessage({ op: 'compute', key: 'k', run: 1, fn: 'a#b', args: [] }, OPS.fromClient))).to.contain('not allowed here');
    expect(message(() => checkMessage({ op: 'gather', id: 1, keys: 'k' }, OPS.fromClient))).to.contain('field "keys"');
    expect(message(() => checkMessage({ op: 'put-data', id: 1, keys: ['a'], values: [] }, OPS.toWorker))).to.contain('same length');
    expect(message(() => checkMessage({ op: 'register-worker', id: 1, name: 'w', nthreads: 0, memoryLimit: 0, labels: {}, pid: 1 }, OPS.toSchedulerFirst))).to.contain(
      'field "nthreads"',
    );
  });
});
