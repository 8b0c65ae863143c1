import { type Socket, connect } from 'node:net';
import { expect } from 'chai';
import { EbbtideError, Kernel, type WorkerKey, definePlugin } from '@ebbtide/core';
import { noopPlugin } from '@ebbtide/core/testing';
import { injectable } from 'tsyringe';
import embeddedPlugin from '../src/index.js';
import { Client } from '../src/client/Client.js';
import { EmbeddedSchedulerAdapter } from '../src/EmbeddedSchedulerAdapter.js';
import { parseAddress } from '../src/protocol/address.js';
import { FrameDecoder, encodeFrame } from '../src/protocol/frames.js';
import { EmbeddedScheduler } from '../src/scheduler/EmbeddedScheduler.js';
import { isLoopbackHost } from '../src/scheduler/checkOptions.js';
import { builtinTask } from '../src/tasks/builtinTask.js';
import { type Harness, startHarness } from './helpers/harness.js';
import { killWorkers, spawnWorker, spawnWorkerProcess } from './helpers/workers.js';
import { waitFor } from './helpers/waitFor.js';

@injectable()
class NoneKey implements WorkerKey {
  key(): string {
    return '';
  }
}
const fillers = definePlugin({ name: 'fillers', register: (r) => r.workerKey('none', NoneKey) });

/** The embedded adapter as the kernel builds it from these config sources. */
async function resolveAdapter(sources: { flags?: Record<string, string>; env?: Record<string, string> }): Promise<EmbeddedSchedulerAdapter> {
  const kernel = await Kernel.create({
    builtins: [noopPlugin, fillers, embeddedPlugin],
    sources: { env: sources.env ?? {}, preset: { heuristic: 'noop', workersToClose: 'noop', workerKey: 'none', scheduler: { type: 'embedded' } }, ...(sources.flags ? { flags: sources.flags } : {}) },
  });
  return kernel.resolve('scheduler') as unknown as EmbeddedSchedulerAdapter;
}

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<EbbtideError | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e as EbbtideError;
  }
  return undefined;
}

function header(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length, 0);
  return b;
}

/** A raw socket to the scheduler; `closed` resolves once the scheduler cut it; replies are decoded. */
async function raw(address: string): Promise<{ socket: Socket; closed: Promise<void>; replies: Array<Record<string, unknown>> }> {
  const { host, port } = parseAddress(address);
  const socket = connect({ host, port });
  socket.on('error', () => undefined);
  const decoder = new FrameDecoder();
  const replies: Array<Record<string, unknown>> = [];
  socket.on('data', (c: Buffer) => replies.push(...decoder.push(c)));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return { socket, closed, replies };
}

describe('scheduler.embedded bounds: configuration', () => {
  it('maxFrameBytes defaults to 64 MiB; the old maxFrameSize is refused with the new name, from a flag or the environment', async () => {
    const adapter = await resolveAdapter({});
    expect((adapter.scheduler as unknown as { options: { maxFrameBytes: number } }).options.maxFrameBytes).to.equal(64 * 1024 * 1024);
    for (const sources of [{ flags: { 'scheduler.embedded.maxFrameSize': '1MiB' } }, { env: { EBBTIDE_SCHEDULER_EMBEDDED_MAX_FRAME_SIZE: '1MiB' } }]) {
      const e = await errorOf(resolveAdapter(sources));
      expect(e?.code).to.equal('CONFIG_INVALID');
      expect(e?.key).to.equal('scheduler.embedded.maxFrameSize');
      expect(e?.message).to.equal('scheduler.embedded.maxFrameSize was renamed to scheduler.embedded.maxFrameBytes (its default is now 64MiB)');
    }
  });

  it('refuses a non-loopback host without a token (CONFIG_INVALID on scheduler.embedded.host), accepts it with one', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.org']) {
      const e = await errorOf(resolveAdapter({ flags: { 'scheduler.embedded.host': host } }));
      expect(e?.code, host).to.equal('CONFIG_INVALID');
      expect(e?.key).to.equal('scheduler.embedded.host');
      expect(e?.message).to.contain(`"${host}" is reachable from other machines, and scheduler.embedded.token is not set`);
      expect(e?.hint).to.contain('EBBTIDE_TOKEN');
    }
    const adapter = await resolveAdapter({ flags: { 'scheduler.embedded.host': '0.0.0.0', 'scheduler.embedded.token': 's3cret' } });
    expect(adapter.workerEnv).to.deep.equal({ EBBTIDE_TOKEN: 's3cret' });
    expect((await resolveAdapter({})).workerEnv).to.equal(undefined);
    // The same check guards programmatic use.
    expect((await errorOf(() => new EmbeddedScheduler({ host: '0.0.0.0' })))?.code).to.equal('CONFIG_INVALID');
  });

  it('refuses a buffer cap below one frame and a frame limit below 64 KiB', async () => {
    const cap = await errorOf(resolveAdapter({ flags: { 'scheduler.embedded.maxBufferedBytes': '1MiB', 'scheduler.embedded.maxFrameBytes': '2MiB' } }));
    expect(cap?.key).to.equal('scheduler.embedded.maxBufferedBytes');
    expect(cap?.message).to.contain('expected at least scheduler.embedded.maxFrameBytes (2MiB), got 1MiB');
    const frame = await errorOf(resolveAdapter({ flags: { 'scheduler.embedded.maxFrameBytes': '1000' } }));
    expect(frame?.key).to.equal('scheduler.embedded.maxFrameBytes');
  });

  it('counts only loopback interfaces as loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).to.equal(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'localhost.example.org', '', '127.0.0.1.nip.io']) expect(isLoopbackHost(h), h).to.equal(false);
  });
});

describe('scheduler.embedded.token', () => {
  after(killWorkers);

  it('refuses clients without the token or with a wrong one, and serves one with it (option or EBBTIDE_TOKEN)', async () => {
    const scheduler = new EmbeddedScheduler({ token: 's3cret', heartbeatInterval: 0.1 });
    const address = await scheduler.listen();
    try {
      const none = await errorOf(Client.connect(address));
      expect(none?.code).to.equal('CONFIG_INVALID');
      expect(none?.key).to.equal('scheduler.embedded.token');
      expect(none?.message).to.contain('this scheduler requires a token');
      const wrong = await errorOf(Client.connect(address, { token: 'guess' }));
      expect(wrong?.message).to.contain('wrong token');
      await spawnWorker(address, 'w-token', 1, [], { EBBTIDE_TOKEN: 's3cret' });
      const viaOption = await Client.connect(address, { token: 's3cret' });
      expect(await viaOption.gather([await viaOption.submit(builtinTask('inc'), [1])])).to.deep.equal([2]);
      await viaOption.close();
      process.env.EBBTIDE_TOKEN = 's3cret';
      try {
        const viaEnv = await Client.connect(address);
        expect(await viaEnv.gather([await viaEnv.submit(builtinTask('inc'), [2])])).to.deep.equal([3]);
        await viaEnv.close();
      } finally {
        delete process.env.EBBTIDE_TOKEN;
      }
    } finally {
      await scheduler.close();
    }
  });

  it('a worker without the token exits 2 with CONFIG_INVALID naming the key', async () => {
    const scheduler = new EmbeddedScheduler({ token: 's3cret', heartbeatInterval: 0.1 });
    const address = await scheduler.listen();
    try {
      const w = spawnWorkerProcess(['--scheduler', address, '--name', 'w-no-token'], 'w-no-token', { EBBTIDE_TOKEN: '' });
      expect(await w.exited).to.equal(2);
      expect(w.stderr.join('\n')).to.contain('error[CONFIG_INVALID]: worker w-no-token: the scheduler at').and.contain('requires a token');
      expect(scheduler.snapshot().workers).to.deep.equal([]);
    } finally {
      await scheduler.close();
    }
  });
});

describe('scheduler.embedded timeouts and limits', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await killWorkers();
  });

  const logged = (event: string) => waitFor(`a ${event} log record`, () => h!.logger.records.find((r) => r.fields.event === event));

  it('closes a connection that does not register within handshakeTimeout, whether silent or half-way through a frame', async () => {
    h = await startHarness({ handshakeTimeout: 0.3 });
    const silent = await raw(h.address);
    const half = await raw(h.address);
    const frame = encodeFrame({ op: 'register-client', id: 1 });
    half.socket.write(frame.subarray(0, frame.length - 2));
    await Promise.all([silent.closed, half.closed]);
    await logged('connection.handshake-timeout');
    expect(h.logger.records.filter((r) => r.fields.event === 'connection.handshake-timeout')).to.have.length(2);
    await waitFor('only the harness client left', () => h!.scheduler.connectionStats().connections === 1);
    expect(h.scheduler.connectionStats()).to.deep.include({ unregistered: 0, bufferedBytes: 0 });
  });

  it('closes a registered connection that completes no message within idleTimeout; a Client pings and stays', async () => {
    h = await startHarness({ idleTimeout: 0.5 });
    const quiet = await raw(h.address);
    quiet.socket.write(encodeFrame({ op: 'register-client', id: 1 }));
    // A frame started and never finished is not a message: it does not keep the connection.
    quiet.socket.write(header(100));
    quiet.socket.write('{"op":');
    await quiet.closed;
    const record = await logged('connection.idle');
    expect(record.fields.buffered).to.equal(6);
    // The harness client connected before `quiet` and has been as quiet, except for its pings.
    expect(await h.client.submit(builtinTask('inc'), [1])).to.be.a('string');
    expect(h.scheduler.connectionStats().connections).to.equal(1);
  });

  it('accepts at most 64 KiB per frame before registering, then maxFrameBytes', async () => {
    h = await startHarness();
    const early = await raw(h.address);
    early.socket.write(header(100 * 1024));
    await early.closed;
    const warning = await logged('connection.malformed');
    expect(warning.fields.reason).to.equal('frame length 102400 is outside 1..65536');
    await spawnWorker(h.address, 'w1', 1);
    // Registered: a 200 KiB submit and a 200 KiB result travel in single frames.
    const big = 'x'.repeat(200 * 1024);
    const echo = await h.client.submit(builtinTask('add'), [big, '!']);
    expect(await h.client.gather([echo])).to.deep.equal([`${big}!`]);
  });

  it('refuses connections beyond maxConnections as they arrive, logging once, and accepts again below it', async () => {
    h = await startHarness({ maxConnections: 3 });
    const a = await raw(h.address);
    const b = await raw(h.address);
    await waitFor('three connections', () => h!.scheduler.connectionStats().connections === 3);
    const refused = await Promise.all([raw(h.address), raw(h.address)]);
    await Promise.all(refused.map((r) => r.closed));
    expect(h.scheduler.connectionStats()).to.deep.include({ connections: 3, refused: 2 });
    await logged('connection.refused');
    expect(h.logger.records.filter((r) => r.fields.event === 'connection.refused')).to.have.length(1);
    a.socket.destroy();
    b.socket.destroy();
    await waitFor('the two closed', () => h!.scheduler.connectionStats().connections === 1);
    const again = await Client.connect(h.address);
    await again.close();
  });

  it('closes the connection whose partial frame would take buffered bytes across connections above maxBufferedBytes', async () => {
    const KiB = 1024;
    h = await startHarness({ maxFrameBytes: 256 * KiB, maxBufferedBytes: 512 * KiB });
    const conns = await Promise.all([0, 1, 2].map(() => raw(h!.address)));
    // A real submit, padded to 256 KiB (extra fields are ignored), sent in part by each.
    const body = Buffer.from(JSON.stringify({ op: 'submit', id: 2, key: 'inc-padded', fn: builtinTask('inc'), args: [1], pad: '' }));
    const padded = Buffer.concat([body.subarray(0, body.length - 2), Buffer.alloc(256 * KiB - body.length, 0x61), body.subarray(body.length - 2)]);
    const frame = Buffer.concat([header(padded.length), padded]);
    for (const [i, c] of conns.entries()) {
      c.socket.write(encodeFrame({ op: 'register-client', id: 1 }));
      c.socket.write(frame.subarray(0, 4 + 200 * KiB));
      if (i < 2) await waitFor(`${i + 1} x 200 KiB buffered`, () => h!.scheduler.connectionStats().bufferedBytes === (i + 1) * 200 * KiB);
    }
    await conns[2]!.closed;
    const record = await logged('connection.over-budget');
    expect(record.fields).to.deep.include({ limit: 512 * KiB });
    expect(h.scheduler.connectionStats().bufferedBytes).to.equal(400 * KiB);
    // The first finishes its frame: it is an ordinary submit, and its bytes are released.
    conns[0]!.socket.write(frame.subarray(4 + 200 * KiB));
    await waitFor('the submit reply', () => conns[0]!.replies.find((r) => r.id === 2));
    expect(conns[0]!.replies.find((r) => r.id === 2)).to.deep.include({ ok: true, key: 'inc-padded' });
    expect(h.scheduler.connectionStats().bufferedBytes).to.equal(200 * KiB);
    conns[1]!.socket.destroy();
    conns[0]!.socket.destroy();
    await waitFor('nothing buffered', () => h!.scheduler.connectionStats().bufferedBytes === 0);
  });
});
