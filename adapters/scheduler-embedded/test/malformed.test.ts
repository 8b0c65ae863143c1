import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { parseAddress } from '../src/protocol/address.js';
import { encodeFrame } from '../src/protocol/frames.js';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { killWorkers, spawnWorker } from './helpers/workers.js';
import { waitFor } from './helpers/waitFor.js';

function header(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length, 0);
  return b;
}

function rawFrame(body: string): Buffer {
  return Buffer.concat([header(Buffer.byteLength(body)), Buffer.from(body)]);
}

/** Opens a raw socket, writes `bytes`, and resolves once the scheduler has closed it. */
async function sendAndAwaitClose(address: string, bytes: Buffer[]): Promise<void> {
  const { host, port } = parseAddress(address);
  const socket: Socket = connect({ host, port });
  socket.on('error', () => undefined);
  socket.resume();
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  for (const b of bytes) socket.write(b);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
}

describe('malformed frames', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ maxFrameBytes: 1024 * 1024 });
    await spawnWorker(h.address, 'w1', 1);
  });

  after(async () => {
    await h.close();
    await killWorkers();
  });

  afterEach(async () => {
    // The scheduler survived and still serves the existing client and worker.
    const key = await h.client.submit(builtinTask('add'), [20, 22]);
    expect(await h.client.gather([key])).to.deep.equal([42]);
    expect(h.store.workerNames()).to.deep.equal(['w1']);
  });

  const cases: Array<[string, Buffer[], string]> = [
    ['a zero length', [header(0)], 'frame length 0'],
    ['a length above the limit', [header(1024 * 1024 + 1), Buffer.from('{}')], 'frame length 1048577'],
    ['a body that is not JSON', [rawFrame('{not json')], 'not valid JSON'],
    ['a body that is not an object', [rawFrame('[1,2]')], 'must be a JSON object'],
    ['a body without op', [rawFrame('{"id":1}')], 'no string "op"'],
    ['an unknown op', [rawFrame('{"op":"explode","id":1}')], 'unknown op "explode"'],
    ['a worker-only op from an unregistered peer', [rawFrame('{"op":"heartbeat","nbytes":0,"executing":[]}')], 'not allowed here'],
    ['a known op with a malformed field', [rawFrame('{"op":"register-worker","id":1,"name":"",' + '"nthreads":1,"memoryLimit":0,"labels":{},"pid":1}')], 'field "name"'],
  ];
  for (const [what, bytes, reason] of cases) {
    it(`${what} closes that connection and logs a warning`, async () => {
      await sendAndAwaitClose(h.address, bytes);
      const warning = await waitFor('the warning', () => h.logger.records.find((r) => r.level === 'warn' && String(r.fields.reason).includes(reason)));
      expect(warning.fields.event).to.equal('connection.malformed');
    });
  }

  it('a registered client that sends garbage is cut off; other clients are unaffected', async () => {
    const { Client } = await import('../src/client/Client.js');
    const { host, port } = parseAddress(h.address);
    const socket = connect({ host, port });
    socket.on('error', () => undefined);
    socket.resume();
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(encodeFrame({ op: 'register-client', id: 1 }));
    socket.write(encodeFrame({ op: 'compute', key: 'k', run: 1, fn: 'x#y', args: [] }));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const other = await Client.connect(h.address);
    try {
      const key = await other.submit(builtinTask('inc'), [0]);
      expect(await other.gather([key])).to.deep.equal([1]);
    } finally {
      await other.close();
    }
  });
});
