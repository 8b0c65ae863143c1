import { expect } from 'chai';
import { FrameDecoder, encodeFrame } from '../src/protocol/frames.js';
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
