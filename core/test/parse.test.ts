import { expect } from 'chai';
import { parseBytes, parseCountOrInf, parseDuration, parsePositiveInteger, parseWholeNumber } from '../src/config/parse.js';

/** Table runner: `fn(input)` must give `expected` (undefined = rejected). */
function table(fn: (v: unknown) => number | undefined, rows: Array<[unknown, number | undefined]>): void {
  for (const [input, expected] of rows) {
    it(`${typeof input === 'string' ? JSON.stringify(input) : String(input)} -> ${expected}`, () => {
      expect(fn(input)).to.equal(expected);
    });
  }
}

describe('parseDuration (seconds)', () => {
  table(parseDuration, [
    ['500ms', 0.5],
    ['2s', 2],
    ['2m', 120],
    ['1.5m', 90],
    ['1h', 3600],
    ['250 ms', 0.25],
    ['3', 3],
    [3, 3],
    [0, 0],
    [0.5, 0.5],
    ['fast', undefined],
    ['-1s', undefined],
    [-1, undefined],
    ['2 weeks', undefined],
    ['', undefined],
    [Infinity, undefined],
    [null, undefined],
  ]);
});

describe('parseCountOrInf', () => {
  table(parseCountOrInf, [
    ['inf', Infinity],
    [Infinity, Infinity],
    [0, 0],
    [7, 7],
    ['7', 7],
    [-1, undefined],
    ['-1', undefined],
    [2.5, undefined],
    ['2.5', undefined],
    ['lots', undefined],
    ['', undefined],
  ]);
});

describe('parseWholeNumber', () => {
  table(parseWholeNumber, [
    [0, 0],
    [3, 3],
    ['3', 3],
    [-1, undefined],
    [1.5, undefined],
    ['x', undefined],
    ['inf', undefined],
  ]);
});

describe('parsePositiveInteger', () => {
  table(parsePositiveInteger, [
    [1, 1],
    ['4', 4],
    [0, undefined],
  ]);
});

describe('parseBytes', () => {
  table(parseBytes, [
    [0, 0],
    [1024, 1024],
    ['4GB', 4e9],
    ['512MiB', 512 * 2 ** 20],
    ['1.5 kb', 1500],
    ['12', 12],
    ['4 parsecs', undefined],
    [-1, undefined],
  ]);
});
