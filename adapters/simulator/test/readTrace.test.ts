import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EbbtideError } from '@ebbtide/core';
import { readTrace } from '../src/trace/readTrace.js';
import { type Trace, validateTrace } from '../src/trace/Trace.js';

describe('readTrace', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ebbtide-sim-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const trace: Trace = {
    version: 1,
    name: 'two',
    tasks: [
      { t: 0, key: 'a-1', prefix: 'a', duration: 1, nbytes: 10, holdFor: 0 },
      { t: 2, key: 'b-1', prefix: 'b', duration: 0.5, nbytes: 0, holdFor: 60 },
    ],
  };

  it('reads a .json trace', () => {
    const path = join(dir, 'two.json');
    writeFileSync(path, JSON.stringify(trace));
    expect(readTrace(path)).to.deep.equal(trace);
  });

  it('reads a .jsonl recording', () => {
    const path = join(dir, 'rec.jsonl');
    const lines = [
      { type: 'header', version: 1, name: 'from-file' },
      { t: 5, event: { type: 'task.transition', key: 'a-1', prefix: 'a', to: 'queued' } },
      { t: 5, event: { type: 'task.transition', key: 'a-1', to: 'processing', worker: 'w' } },
      { t: 6, event: { type: 'task.transition', key: 'a-1', to: 'memory', duration: 1 } },
      { t: 6, event: { type: 'task.transition', key: 'a-1', to: 'released' } },
    ];
    writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    expect(readTrace(path)).to.deep.equal({ version: 1, name: 'from-file', tasks: [{ t: 0, key: 'a-1', prefix: 'a', duration: 1, nbytes: 0, holdFor: 0 }] });
  });

  it('names the file and the problem for bad input', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...trace, tasks: [trace.tasks[1], trace.tasks[0]] }));
    expect(() => readTrace(bad)).to.throw(EbbtideError, /bad\.json: tasks\[1\]\.t: tasks must be sorted by t, got 0 after 2/);
    expect(() => readTrace(join(dir, 'missing.json'))).to.throw(EbbtideError, /cannot read trace file .*missing\.json: no such file/);
    expect(() => readTrace(join(dir, 'trace.csv'))).to.throw(EbbtideError, /unknown trace file extension "\.csv"; expected \.jsonl \(a recording\) or \.json \(a trace\)/);
    const recording = join(dir, 'noheader.jsonl');
    writeFileSync(recording, '{"t": 1}\n');
    expect(() => readTrace(recording)).to.throw(EbbtideError, /noheader\.jsonl: recording line 1: expected the header/);
  });

  it('validateTrace names the bad task and field', () => {
    expect(() => validateTrace({ version: 1, name: 'x', tasks: [{ t: 0, key: 'k', prefix: 'p', duration: -1, nbytes: 0, holdFor: 0 }] })).to.throw(
      EbbtideError,
      /tasks\[0\]\.duration: expected a number >= 0, got -1/,
    );
    expect(() => validateTrace({ version: 1, name: 'x', tasks: [trace.tasks[0], trace.tasks[0]] })).to.throw(EbbtideError, /tasks\[1\]\.key: duplicate key "a-1"/);
    expect(() => validateTrace({ version: 2, name: 'x', tasks: [] })).to.throw(EbbtideError, /expected version 1, got 2/);
  });
});
