import { expect } from 'chai';
import { IdentityPolicy, type PollSignals, PollBackoff, PollFingerprint, TaskStreamCursor, heartbeatInterval } from '../src/index.js';

const A = ['tcp://h:1', 'tcp://h:2'];
const quiet = (now: number, over: Partial<PollSignals> = {}): PollSignals => ({ now, addresses: A, running: new Set(A), activity: false, busy: false, ...over });

/** A policy that has read identity at `t` after a quiet first poll there. */
function readAt(t: number): IdentityPolicy {
  const p = new IdentityPolicy();
  expect(p.mustRead(quiet(t))).to.equal(true); // never read
  p.read(t, A);
  return p;
}

describe('heartbeatInterval', () => {
  it("is Dask's heartbeat_interval(n)", () => {
    expect([1, 10, 11, 49, 50, 199, 200, 1000].map(heartbeatInterval)).to.deep.equal([0.5, 0.5, 1, 1, 2, 2, 2, 6]);
  });
});

describe('IdentityPolicy: when a poll reads identity', () => {
  it('at rest: not again until the periodic refresh (30 s, or 10 heartbeat intervals at scale)', () => {
    const p = readAt(0);
    // The first poll's activity window (one heartbeat + 2 s) has passed without activity.
    p.read(3, A);
    expect(p.mustRead(quiet(10))).to.equal(false);
    expect(p.mustRead(quiet(32.9))).to.equal(false);
    expect(p.mustRead(quiet(33))).to.equal(true);
    const many = [...Array(1000).keys()].map((i) => `tcp://h:${i}`);
    const big = new IdentityPolicy();
    big.mustRead({ ...quiet(0), addresses: many, running: new Set(many) });
    big.read(0, many);
    big.read(9, many);
    expect(big.mustRead({ ...quiet(60), addresses: many, running: new Set(many) })).to.equal(false);
    expect(big.mustRead({ ...quiet(69), addresses: many, running: new Set(many) })).to.equal(true);
  });

  it('at once when a worker appears or a worker enters or leaves running; not when one leaves', () => {
    const p = readAt(0);
    p.read(5, A);
    expect(p.mustRead(quiet(6, { addresses: [A[0]!] , running: new Set([A[0]!]) }))).to.equal(true); // running set changed
    p.read(6, [A[0]!]);
    expect(p.mustRead(quiet(7, { addresses: [A[0]!], running: new Set([A[0]!]) }))).to.equal(false);
    expect(p.mustRead(quiet(8, { addresses: [...A, 'tcp://h:3'], running: new Set([A[0]!]) }))).to.equal(true); // new address
    p.read(8, [...A, 'tcp://h:3']);
    expect(p.mustRead(quiet(9, { addresses: [...A, 'tcp://h:3'], running: new Set([A[0]!, 'tcp://h:3']) }))).to.equal(true); // h:3 now running
    p.read(9, [...A, 'tcp://h:3']);
    expect(p.mustRead(quiet(10, { addresses: A, running: new Set([A[0]!]) }))).to.equal(true); // h:3 left running
    p.read(10, A);
    // A worker that is gone and was not running: dropped without a read.
    expect(p.mustRead(quiet(11, { addresses: [A[0]!], running: new Set([A[0]!]) }))).to.equal(false);
  });

  it('while tasks run or move: once per heartbeat interval, then once more a heartbeat + 2 s after the last move', () => {
    const p = readAt(0);
    p.read(3, A);
    expect(p.mustRead(quiet(10, { activity: true }))).to.equal(true); // metrics may lag: read, then keep watching
    p.read(10, A);
    expect(p.mustRead(quiet(10.2, { busy: true }))).to.equal(false); // within one heartbeat interval (0.5 s)
    expect(p.mustRead(quiet(10.6, { busy: true }))).to.equal(true);
    p.read(10.6, A);
    // Quiet from here: the last busy poll was at 10.6, so one more read from 10.6 + 0.5 + 2 = 13.1.
    expect(p.mustRead(quiet(12))).to.equal(true); // still settling and a heartbeat has passed
    p.read(12, A);
    expect(p.mustRead(quiet(12.4))).to.equal(false);
    expect(p.mustRead(quiet(13.1))).to.equal(true);
    p.read(13.1, A);
    expect(p.mustRead(quiet(14))).to.equal(false);
    expect(p.mustRead(quiet(40))).to.equal(false);
  });

  it('invalidate(): the next poll reads', () => {
    const p = readAt(0);
    p.read(3, A);
    expect(p.mustRead(quiet(4))).to.equal(false);
    p.invalidate();
    expect(p.mustRead(quiet(5))).to.equal(true);
    p.read(5, A);
    expect(p.mustRead(quiet(9))).to.equal(false);
  });
});

describe('PollBackoff', () => {
  it('doubles the wait after each unchanged poll up to the cap, and is back to the interval after a change or reset', () => {
    const b = new PollBackoff(1000, 4000);
    const waits: number[] = [b.nextMs];
    for (const changed of [false, false, false, true, false, false]) {
      b.polled(changed);
      waits.push(b.nextMs);
    }
    expect(waits).to.deep.equal([1000, 2000, 4000, 4000, 1000, 2000, 4000]);
    b.reset();
    expect(b.nextMs).to.equal(1000);
  });

  it('a cap at or below the interval is no back-off', () => {
    const b = new PollBackoff(1000, 500);
    b.polled(false);
    expect(b.nextMs).to.equal(1000);
  });
});

describe('PollFingerprint', () => {
  it('tells apart sequences that differ in content or in where one string ends', () => {
    const fp = (...xs: string[]) => xs.reduce((f, x) => f.add(x), new PollFingerprint()).value;
    expect(fp('a', 'b')).to.equal(fp('a', 'b'));
    expect(fp('ab', 'c')).not.to.equal(fp('a', 'bc'));
    expect(fp('a', 'b')).not.to.equal(fp('b', 'a'));
    expect(new PollFingerprint().addNumber(1).value).not.to.equal(new PollFingerprint().addNumber(2).value);
  });
});

describe('TaskStreamCursor on a quiet cluster', () => {
  const done = (key: string, stop: number) => ({ key, status: 'OK', worker: 'tcp://h:1', startstops: [{ action: 'compute', start: stop - 0.5, stop }] });

  it('reads only the newest entry after a poll with nothing new, and re-reads at least 32 when it moved', () => {
    const c = new TaskStreamCursor();
    c.accept([done('t-0', 1), done('t-1', 2)], 1000);
    expect(c.accept([done('t-0', 1), done('t-1', 2)], 8)).to.deep.equal({ fresh: [] });
    expect(c.args()).to.deep.equal({ count: 1 });
    expect(c.accept([done('t-1', 2)], 1)).to.deep.equal({ fresh: [] });
    expect(c.args()).to.deep.equal({ count: 1 });
    expect(c.accept([done('t-3', 4)], 1)).to.deep.equal({ retryCount: 32 });
    expect(c.accept([done('t-0', 1), done('t-1', 2), done('t-2', 3), done('t-3', 4)], 32)).to.deep.equal({ fresh: [done('t-2', 3), done('t-3', 4)] });
    expect(c.args()).to.deep.equal({ count: 8 });
  });
});
