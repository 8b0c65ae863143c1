import { expect } from 'chai';
import { EbbtideError } from '@ebbtide/core';
import { Random } from '../src/random/Random.js';
import { drawStartupDelay, formatStartupDelay, parseStartupDelay } from '../src/sim/StartupDelay.js';

describe('parseStartupDelay', () => {
  const cases: Array<[unknown, unknown]> = [
    ['5s', { kind: 'fixed', seconds: 5 }],
    [2.5, { kind: 'fixed', seconds: 2.5 }],
    ['500ms', { kind: 'fixed', seconds: 0.5 }],
    ['uniform:2s:10s', { kind: 'uniform', min: 2, max: 10 }],
    ['exp:5s', { kind: 'exponential', mean: 5 }],
    ['exponential:1m', { kind: 'exponential', mean: 60 }],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      expect(parseStartupDelay(input)).to.deep.equal(expected);
    });
  }

  for (const bad of ['', 'soon', 'uniform:10s:2s', 'uniform:2s', 'exp:', 'gauss:1s:2s', -1, null]) {
    it(`rejects ${JSON.stringify(bad)} with the key and the accepted forms`, () => {
      let err: unknown;
      try {
        parseStartupDelay(bad);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(EbbtideError);
      expect((err as EbbtideError).code).to.equal('CONFIG_INVALID');
      expect((err as EbbtideError).key).to.equal('simulator.startupDelay');
      expect((err as EbbtideError).message).to.contain('uniform:<min>:<max>');
    });
  }

  it('formats back to the parsed form', () => {
    for (const text of ['5s', 'uniform:2s:10s', 'exp:5s']) expect(formatStartupDelay(parseStartupDelay(text))).to.equal(text);
  });

  it('draws within the range, the same numbers for the same seed', () => {
    const d = parseStartupDelay('uniform:2s:10s');
    const a = Array.from({ length: 200 }, ((r) => () => drawStartupDelay(d, r))(new Random(3)));
    const b = Array.from({ length: 200 }, ((r) => () => drawStartupDelay(d, r))(new Random(3)));
    expect(a).to.deep.equal(b);
    expect(Math.min(...a)).to.be.at.least(2);
    expect(Math.max(...a)).to.be.below(10);
    const e = parseStartupDelay('exp:5s');
    const r = new Random(4);
    const draws = Array.from({ length: 5000 }, () => drawStartupDelay(e, r));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).to.be.within(4.5, 5.5);
  });
});
