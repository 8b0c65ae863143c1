import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockFile, type LockHolder, isSameProcessAlive, processStartTime } from '../src/sdk.js';

/** A pid whose process has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

function caught(fn: () => void): { code?: string; message: string; hint?: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string; hint?: string };
  }
  throw new Error('expected it to throw');
}

describe('LockFile (one live ebbtide per cluster, for backends with nothing to lock with)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ebbtide-lockfile-'));
    path = join(dir, 'nested', 'lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const holder = (over: Partial<LockHolder>): LockHolder => ({ pid: process.pid, host: hostname(), instance: 'other', since: 0, ...over });

  it('is taken by one instance; a second is refused with CLUSTER_LOCKED naming the holder, until the first releases it', () => {
    const first = new LockFile(path, { what: 'cluster "c"' });
    const second = new LockFile(path, { what: 'cluster "c"' });
    first.acquire(Date.now());
    expect(first.held).to.equal(true);
    expect(first.holder()?.pid).to.equal(process.pid);
    expect(first.holder()?.startTime).to.equal(processStartTime(process.pid));
    const e = caught(() => second.acquire(Date.now()));
    expect(e.code).to.equal('CLUSTER_LOCKED');
    expect(e.message).to.contain(`cluster "c" is already driven by ebbtide pid ${process.pid} on ${hostname()}`).and.to.contain(path);
    expect(second.held).to.equal(false);
    first.release();
    expect(existsSync(path)).to.equal(false);
    second.acquire(Date.now());
    expect(second.held).to.equal(true);
  });

  it('takes over a lock whose holder on this host is gone', () => {
    const dead = deadPid();
    expect(isSameProcessAlive(dead)).to.equal(false);
    new LockFile(path, { what: 'x' }).acquire(Date.now());
    writeFileSync(path, JSON.stringify(holder({ pid: dead })));
    const taker = new LockFile(path, { what: 'x' });
    taker.acquire(Date.now());
    expect(taker.holder()?.pid).to.equal(process.pid);
  });

  it('takes over a lock whose pid now belongs to another process (start time differs)', () => {
    new LockFile(path, { what: 'x' }).acquire(Date.now());
    writeFileSync(path, JSON.stringify(holder({ startTime: (processStartTime(process.pid) ?? 0) + 1 })));
    const taker = new LockFile(path, { what: 'x' });
    taker.acquire(Date.now());
    expect(JSON.parse(readFileSync(path, 'utf8')).instance).not.to.equal('other');
  });

  it('keeps a lock held from another host (its process cannot be checked), with the given hint', () => {
    new LockFile(path, { what: 'x' }).acquire(Date.now());
    writeFileSync(path, JSON.stringify(holder({ host: 'elsewhere.example', pid: deadPid() })));
    const e = caught(() => new LockFile(path, { what: 'YARN service s', hint: 'remove it' }).acquire(Date.now()));
    expect(e.code).to.equal('CLUSTER_LOCKED');
    expect(e.message).to.contain('on elsewhere.example');
    expect(e.hint).to.equal('remove it');
  });

  it('release leaves a lock someone else has since taken', () => {
    const first = new LockFile(path, { what: 'x' });
    first.acquire(Date.now());
    writeFileSync(path, JSON.stringify(holder({ instance: 'taker' })));
    first.release();
    expect(JSON.parse(readFileSync(path, 'utf8')).instance).to.equal('taker');
  });
});
