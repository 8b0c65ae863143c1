import { expect } from 'chai';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { type Socket, connect } from 'node:net';
import { join } from 'node:path';
import { Client, builtinTask, encodeFrame, parseAddress, workerBin } from '@ebbtide/scheduler-embedded';
import { ROOT } from '../support/paths.js';
import { killAll, until } from '../support/processes.js';

/**
 * The embedded scheduler under hostile connections (issue 8, item 3): oversized frames, frames
 * sent in part and then abandoned, connections that never register or trickle bytes (slowloris),
 * more connections than the limit. The scheduler runs in a child process so its own RSS is what is
 * measured; every wait is on an event (a socket closed, a log record, a counter), never a sleep.
 */

const MiB = 1024 * 1024;
const FIXTURE = join(ROOT, 'adapters', 'scheduler-embedded', 'test', 'fixtures', 'boundedScheduler.js');

interface Stats {
  rss: number;
  heapTotal: number;
  connections: number;
  unregistered: number;
  bufferedBytes: number;
  refused: number;
}

interface LogRecord {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** The scheduler child: its address, its log records as they arrive, and stats on request. */
class SchedulerChild {
  readonly logs: LogRecord[] = [];
  address = '';
  private statsWaiters: Array<(s: Stats) => void> = [];

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: { type: string; address?: string; record?: LogRecord } & Stats) => {
      if (m.type === 'log') this.logs.push(m.record!);
      else if (m.type === 'stats') this.statsWaiters.shift()?.(m);
    });
  }

  static async start(options: object): Promise<SchedulerChild> {
    const child = fork(FIXTURE, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const s = new SchedulerChild(child);
    s.address = await new Promise<string>((resolve, reject) => {
      child.on('message', (m: { type: string; address?: string }) => m.type === 'listening' && resolve(m.address!));
      child.once('exit', (code) => reject(new Error(`scheduler child exited with ${code} before listening`)));
    });
    return s;
  }

  stats(): Promise<Stats> {
    return new Promise((resolve) => {
      this.statsWaiters.push(resolve);
      this.child.send({ type: 'stats' });
    });
  }

  count(event: string): number {
    return this.logs.filter((r) => r.fields.event === event).length;
  }

  /** Waits until `n` log records match (they arrive over IPC, after the socket closed). */
  async waitLogs(what: string, match: (r: LogRecord) => boolean, n: number): Promise<void> {
    await until(() => this.logs.filter(match).length >= n, 30_000, `${n} log records: ${what}`);
    expect(this.logs.filter(match), what).to.have.length(n);
  }
}

function header(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length, 0);
  return b;
}

/** An attacker's socket: connected, errors ignored, `closed` resolves when the scheduler cut it. */
interface RawSocket {
  socket: Socket;
  closed: Promise<void>;
}

async function rawSocket(address: string): Promise<RawSocket> {
  const { host, port } = parseAddress(address);
  const socket = connect({ host, port });
  socket.on('error', () => undefined);
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    void closed.then(() => reject(new Error('closed before connecting')));
  });
  return { socket, closed };
}

/** Writes `total` bytes in 1 MiB pieces, honouring backpressure; stops early if the socket dies. */
async function writeBytes(socket: Socket, total: number): Promise<void> {
  const piece = Buffer.alloc(MiB, 0x61);
  for (let sent = 0; sent < total && !socket.destroyed; ) {
    const n = Math.min(MiB, total - sent);
    sent += n;
    if (!socket.write(n === MiB ? piece : piece.subarray(0, n))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }
}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

describe('embedded scheduler under abusive connections', function () {
  this.timeout(120_000);
  const pids: number[] = [];
  let s: SchedulerChild;
  let client: Client | undefined;
  const sockets: Socket[] = [];

  after(async () => {
    for (const sock of sockets) sock.destroy();
    await client?.close().catch(() => undefined);
    s?.child.kill('SIGKILL');
    killAll(pids);
  });

  it('holds RSS within 50 MB of its start through oversized, half-sent, idle and excess connections, and still serves a client', async () => {
    s = await SchedulerChild.start({ heartbeatInterval: 0.1, handshakeTimeout: 1, idleTimeout: 5, maxConnections: 200 });
    const worker = spawn(process.execPath, [workerBin, '--scheduler', s.address, '--name', 'w-0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    pids.push(worker.pid!);
    await new Promise<void>((resolve) => worker.stdout!.on('data', (d: Buffer) => String(d).includes('ebbtide-worker ready') && resolve()));
    // A well-behaved client that stays connected through everything (it pings, so it is not idle).
    client = await Client.connect(s.address);
    expect(await client.gather([await client.submit(builtinTask('inc'), [1])])).to.deep.equal([2]);
    const start = await s.stats();
    const figures: string[] = [`start ${mb(start.rss)} MB`];

    // 1. The original report: three connections each sending 200 MiB of a 256 MiB frame. Before
    //    registering a frame may be at most 64 KiB, so each is cut at its header.
    const big = await Promise.all([0, 1, 2].map(() => rawSocket(s.address)));
    sockets.push(...big.map((b) => b.socket));
    await Promise.all(
      big.map(async (b) => {
        b.socket.write(header(256 * MiB));
        await writeBytes(b.socket, 200 * MiB);
        await b.closed;
      }),
    );
    await s.waitLogs('cut at the header before registering', (r) => String(r.fields.reason).includes('frame length 268435456 is outside 1..65536'), 3);

    // 2. The same after registering as a client (the default limit, 64 MiB, applies): cut at the header.
    const registered = await Promise.all([0, 1, 2].map(() => rawSocket(s.address)));
    sockets.push(...registered.map((b) => b.socket));
    await Promise.all(
      registered.map(async (b) => {
        b.socket.write(encodeFrame({ op: 'register-client', id: 1 }));
        b.socket.write(header(256 * MiB));
        await writeBytes(b.socket, 200 * MiB);
        await b.closed;
      }),
    );
    await s.waitLogs('cut at the header after registering', (r) => String(r.fields.reason).includes('frame length 268435456 is outside 1..67108864'), 3);

    // 3. Registered clients each send 50 MiB of a 60 MiB frame and stop: five fit under the
    //    256 MiB cap on buffered bytes; the sixth is cut when it would cross it. The five are then
    //    closed by the idle timeout: a half-sent frame is not a message.
    const halves = await Promise.all([0, 1, 2, 3, 4, 5].map(() => rawSocket(s.address)));
    sockets.push(...halves.map((b) => b.socket));
    const sendHalf = async (b: RawSocket) => {
      b.socket.write(encodeFrame({ op: 'register-client', id: 1 }));
      b.socket.write(header(60 * MiB));
      await writeBytes(b.socket, 50 * MiB);
    };
    await Promise.all(halves.slice(0, 5).map(sendHalf));
    await until(async () => (await s.stats()).bufferedBytes === 250 * MiB, 30_000, '5 x 50 MiB buffered');
    await sendHalf(halves[5]!);
    await halves[5]!.closed;
    await s.waitLogs('over the buffer cap', (r) => r.fields.event === 'connection.over-budget', 1);
    const peak = await s.stats();
    figures.push(`5 x 50 MiB half-sent frames held ${mb(peak.rss)} MB (buffered ${mb(peak.bufferedBytes)} MB)`);
    expect(peak.bufferedBytes).to.equal(250 * MiB);
    await Promise.all(halves.slice(0, 5).map((b) => b.closed));
    await s.waitLogs('idle half-sent frames', (r) => r.fields.event === 'connection.idle', 5);

    // 4. Slowloris before registering: connections that send part of a registration, then a byte
    //    at a time, never finishing it. Closed by the handshake timeout.
    const slow = await Promise.all(Array.from({ length: 100 }, () => rawSocket(s.address)));
    sockets.push(...slow.map((b) => b.socket));
    const frame = encodeFrame({ op: 'register-client', id: 1 });
    for (const b of slow) b.socket.write(frame.subarray(0, 6));
    let offset = 6;
    const trickle = setInterval(() => {
      if (offset < frame.length - 1) for (const b of slow) b.socket.write(frame.subarray(offset, offset + 1));
      offset++;
    }, 100);
    try {
      await Promise.all(slow.map((b) => b.closed));
    } finally {
      clearInterval(trickle);
    }
    await s.waitLogs('slowloris before registering', (r) => r.fields.event === 'connection.handshake-timeout', 100);

    // 5. More connections than the limit (200, the well-behaved client and worker included):
    //    the excess is closed on arrival, the rest when the handshake timeout passes.
    const flood = await Promise.allSettled(Array.from({ length: 400 }, () => rawSocket(s.address)));
    const floodSockets = flood.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    sockets.push(...floodSockets.map((b) => b.socket));
    await Promise.all(floodSockets.map((b) => b.closed));
    const afterFlood = await s.stats();
    expect(afterFlood.refused).to.be.at.least(400 - 198);
    await s.waitLogs('the connection limit', (r) => r.fields.event === 'connection.refused', 1);

    // Back to where it started: only the client and the worker are connected, nothing buffered.
    const end = await s.stats();
    figures.push(`end ${mb(end.rss)} MB`);
    console.log(`      scheduler RSS: ${figures.join('; ')}`);
    expect(end).to.deep.include({ connections: 2, unregistered: 0, bufferedBytes: 0 });
    expect(end.rss - start.rss, `RSS ${mb(start.rss)} MB -> ${mb(end.rss)} MB`).to.be.below(50e6);
    // Still serving: the client that was there all along, and a new one.
    expect(await client.gather([await client.submit(builtinTask('add'), [20, 22])])).to.deep.equal([42]);
    const late = await Client.connect(s.address);
    try {
      expect(await late.gather([await late.submit(builtinTask('inc'), [41])])).to.deep.equal([42]);
    } finally {
      await late.close();
    }
  });
});
