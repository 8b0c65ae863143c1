import { expect } from 'chai';
import { DaskComm } from '../src/index.js';
import { type Peer, SCHEDULER_HANDSHAKE, daskLike, peer, send } from './helpers/scriptedPeer.js';
import { rejection } from './helpers/rejection.js';

/**
 * DaskComm against small TCP peers on 127.0.0.1 that behave like a Dask scheduler or like
 * something else: these are the failure paths a real scheduler cannot be made to take.
 */

/** spec/toolchain.md §2.2: the client handshake, as bytes on the wire. */
const CLIENT_HANDSHAKE_HEX =
  '3a00000000000000' + '0100000000000000' + '2a00000000000000' +
  '83ab636f6d7072657373696f6ec0a6707974686f6e93030b02af7069636b6c652d70726f746f636f6c05';
const OPTS = { connectTimeoutMs: 2000, callTimeoutMs: 2000 };


describe('DaskComm against scripted peers', () => {
  const peers: Peer[] = [];
  const comms: DaskComm[] = [];
  afterEach(async () => {
    for (const c of comms.splice(0)) c.close();
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });
  const track = <T extends Peer>(p: T) => (peers.push(p), p);

  it('reads the handshake first, then sends its own: {compression: null, python, pickle-protocol}', async () => {
    const p = track(await daskLike((s, m) => send(s, { echo: m['op'] })));
    const comm = await DaskComm.connect(p.address, OPTS);
    comms.push(comm);
    expect(comm.peerHandshake).to.deep.equal(SCHEDULER_HANDSHAKE);
    expect(await comm.call('ping', { x: 1 })).to.deep.equal({ echo: 'ping' });
    expect(p.received).to.deep.equal([{ compression: null, python: [3, 11, 2], 'pickle-protocol': 5 }, { op: 'ping', reply: true, x: 1 }]);
    expect(Buffer.concat(p.bytes).subarray(0, 66).toString('hex')).to.equal(CLIENT_HANDSHAKE_HEX);
  });

  it('keeps one request on the wire at a time and pairs replies in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const p = track(
      await daskLike((s, m) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setImmediate(() => {
          inFlight--;
          send(s, { for: m['op'] });
        });
      }),
    );
    const comm = await DaskComm.connect(p.address, OPTS);
    comms.push(comm);
    const replies = await Promise.all(['a', 'b', 'c'].map((op) => comm.call(op)));
    expect(replies).to.deep.equal([{ for: 'a' }, { for: 'b' }, { for: 'c' }]);
    expect(maxInFlight).to.equal(1);
  });

  it('nil reply (unknown op) is SCHEDULER_PROTOCOL and the connection stays usable', async () => {
    const p = track(await daskLike((s, m) => send(s, m['op'] === 'nope' ? null : 'OK')));
    const comm = await DaskComm.connect(p.address, OPTS);
    comms.push(comm);
    const e = await rejection(comm.call('nope'));
    expect(e.code).to.equal('SCHEDULER_PROTOCOL');
    expect(e.message).to.match(/no handler for op "nope"/);
    expect(await comm.call('echo')).to.equal('OK');
    expect(await comm.call('nope', {}, { allowNil: true })).to.equal(null);
  });

  it('an unreachable address is SCHEDULER_UNREACHABLE naming the address and the cause', async () => {
    const p = await peer(() => undefined);
    const address = p.address;
    await p.close();
    const e = await rejection(DaskComm.connect(address, OPTS));
    expect(e.code).to.equal('SCHEDULER_UNREACHABLE');
    expect(e.message).to.contain(address).and.match(/ECONNREFUSED/);
    expect(e.key).to.equal('scheduler.address');
    expect((e.cause as NodeJS.ErrnoException).code).to.equal('ECONNREFUSED');
  });

  it('a peer that greets in another protocol (an SSH banner) is SCHEDULER_PROTOCOL, not retryable', async () => {
    const p = track(await peer((s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')));
    const e = await rejection(DaskComm.connect(p.address, OPTS));
    expect(e.code).to.equal('SCHEDULER_PROTOCOL');
    expect(e.message).to.contain(p.address).and.match(/does not speak the Dask comm protocol/);
    expect(e.data?.['retryable']).to.equal(false);
  });

  it('a msgpack handshake without compression/pickle-protocol is an incompatible version', async () => {
    const p = track(await peer((s) => send(s, { version: '1.0', hello: true })));
    const e = await rejection(DaskComm.connect(p.address, OPTS));
    expect(e.code).to.equal('SCHEDULER_PROTOCOL');
    expect(e.message).to.match(/handshake without "compression" and "pickle-protocol" \(got keys version, hello\)/);
  });

  it('a silent peer is SCHEDULER_PROTOCOL after the connect timeout (e.g. the dashboard port)', async () => {
    const p = track(await peer(() => undefined));
    const e = await rejection(DaskComm.connect(p.address, { ...OPTS, connectTimeoutMs: 200 }));
    expect(e.code).to.equal('SCHEDULER_PROTOCOL');
    expect(e.message).to.match(/no Dask handshake within 0.2s/);
  });

  it('a late reply fails the call with SCHEDULER_UNREACHABLE and closes the connection', async () => {
    const p = track(await daskLike(() => undefined));
    const comm = await DaskComm.connect(p.address, OPTS);
    comms.push(comm);
    const e = await rejection(comm.call('identity', {}, { timeoutMs: 150 }));
    expect(e.code).to.equal('SCHEDULER_UNREACHABLE');
    expect(e.message).to.match(/no reply to op "identity" within 0.15s/);
    expect(await comm.closed).to.equal(e.message);
    expect((await rejection(comm.call('identity'))).code).to.equal('SCHEDULER_UNREACHABLE');
  });

  it('a connection dropped mid-call fails that call with SCHEDULER_UNREACHABLE', async () => {
    const p = track(await daskLike((s) => s.destroy()));
    const comm = await DaskComm.connect(p.address, OPTS);
    comms.push(comm);
    const e = await rejection(comm.call('processing'));
    expect(e.code).to.equal('SCHEDULER_UNREACHABLE');
    expect(e.message).to.match(/while waiting for the reply to "processing"/);
  });

  it('an uncaught-error reply is SCHEDULER_PROTOCOL carrying exception_text', async () => {
    const p = track(
      await daskLike((s) => send(s, { status: 'uncaught-error', exception: { __Pickled__: 1 }, exception_text: "KeyError('x')", traceback_text: 'Traceback...' })),
    );
    const comm = await DaskComm.connect(p.address, OPTS);
    comms.push(comm);
    const e = await rejection(comm.call('nbytes', { keys: ['x'] }));
    expect(e.code).to.equal('SCHEDULER_PROTOCOL');
    expect(e.message).to.contain(`raised an error in op "nbytes": KeyError('x')`);
    expect(e.data).to.include({ op: 'nbytes', exceptionText: "KeyError('x')", tracebackText: 'Traceback...' });
  });
});
