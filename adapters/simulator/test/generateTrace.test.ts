import { expect } from 'chai';
import { EbbtideError } from '@ebbtide/core';
import { type TraceProfile, generateTrace } from '../src/trace/generateTrace.js';
import { type Trace, validateTrace } from '../src/trace/Trace.js';

const HOUR = 3600;

/** Groups submit times into bursts separated by at least `gap` seconds of silence. */
function bursts(trace: Trace, gap = 60): Array<{ start: number; end: number; tasks: number; prefixes: Set<string> }> {
  const out: Array<{ start: number; end: number; tasks: number; prefixes: Set<string> }> = [];
  for (const task of trace.tasks) {
    const last = out[out.length - 1];
    if (last && task.t - last.end < gap) {
      last.end = task.t;
      last.tasks++;
      last.prefixes.add(task.prefix);
    } else out.push({ start: task.t, end: task.t, tasks: 1, prefixes: new Set([task.prefix]) });
  }
  return out;
}

describe('generateTrace', () => {
  for (const profile of ['interactive', 'batch'] as TraceProfile[]) {
    it(`${profile}: the same seed gives the same trace, another seed another one`, () => {
      const a = generateTrace(profile, { seed: 5, duration: 4 * HOUR, startTime: 9 * HOUR });
      const b = generateTrace(profile, { seed: 5, duration: 4 * HOUR, startTime: 9 * HOUR });
      const c = generateTrace(profile, { seed: 6, duration: 4 * HOUR, startTime: 9 * HOUR });
      expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
      expect(c.tasks).not.to.deep.equal(a.tasks);
    });

    it(`${profile}: is a valid trace (fields, unique keys, sorted by t, inside the duration)`, () => {
      const trace = generateTrace(profile, { seed: 2, duration: 6 * HOUR });
      expect(() => validateTrace(trace)).not.to.throw();
      expect(trace.tasks.length).to.be.greaterThan(0);
      expect(trace.tasks[trace.tasks.length - 1]!.t).to.be.below(6 * HOUR);
    });
  }

  describe('interactive: a working day', () => {
    const day = generateTrace('interactive', { seed: 1 });
    const groups = bursts(day);

    it('holds 50k-200k tasks over one day', () => {
      expect(day.tasks.length).to.be.within(50_000, 200_000);
    });

    it('comes in bursts of tens to thousands of tasks, each of a few prefixes', () => {
      expect(groups.length).to.be.greaterThan(50);
      const sizes = groups.map((g) => g.tasks);
      expect(Math.min(...sizes)).to.be.within(10, 99);
      expect(Math.max(...sizes)).to.be.at.least(1000);
      // Bursts a minute apart may merge; a single burst has 1-3 prefixes.
      const prefixCounts = groups.map((g) => g.prefixes.size).sort((a, b) => a - b);
      expect(prefixCounts[Math.floor(prefixCounts.length / 2)]).to.be.at.most(3);
    });

    it('separates bursts by idle gaps of minutes in working hours and long gaps at night', () => {
      const gaps = groups.slice(1).map((g, i) => ({ at: g.start, gap: g.start - groups[i]!.end }));
      const work = gaps.filter((g) => g.at >= 9 * HOUR && g.at < 12 * HOUR).map((g) => g.gap).sort((a, b) => a - b);
      const median = work[Math.floor(work.length / 2)]!;
      expect(median).to.be.within(60, 15 * 60);
      const nightTasks = day.tasks.filter((t) => t.t < 7 * HOUR);
      const nightGaps = gaps.filter((g) => g.at < 7 * HOUR).map((g) => g.gap);
      expect(Math.max(...nightGaps, day.tasks[0]!.t)).to.be.at.least(30 * 60);
      const office = day.tasks.filter((t) => t.t >= 8.5 * HOUR && t.t < 18.5 * HOUR).length;
      expect(office / day.tasks.length).to.be.at.least(0.8);
      expect(nightTasks.length / day.tasks.length).to.be.below(0.1);
    });

    it('has durations between 0.1 and 30 s, and some results held for minutes', () => {
      let min = Infinity;
      let max = 0;
      let held = 0;
      for (const t of day.tasks) {
        min = Math.min(min, t.duration);
        max = Math.max(max, t.duration);
        if (t.holdFor > 0) {
          held++;
          expect(t.holdFor).to.be.within(54, 1980);
        }
      }
      expect(min).to.be.at.least(0.1);
      expect(max).to.be.at.most(30);
      expect(held / day.tasks.length).to.be.within(0.05, 0.6);
    });

    it('starts the day at startTime: two hours from 09:00 are busier than two hours from 02:00', () => {
      const morning = generateTrace('interactive', { seed: 3, duration: 2 * HOUR, startTime: 9 * HOUR });
      const night = generateTrace('interactive', { seed: 3, duration: 2 * HOUR, startTime: 2 * HOUR });
      expect(morning.tasks.length).to.be.greaterThan(5 * Math.max(1, night.tasks.length));
    });
  });

  describe('batch: a steady stream', () => {
    const day = generateTrace('batch', { seed: 1 });

    it('arrives at about 0.3 tasks/s all day, varying slowly, never idle for minutes', () => {
      expect(day.tasks.length / 86_400).to.be.within(0.28, 0.32);
      const perHour = new Array<number>(24).fill(0);
      for (const t of day.tasks) perHour[Math.floor(t.t / HOUR)]!++;
      expect(Math.min(...perHour)).to.be.above(300);
      expect(Math.max(...perHour)).to.be.below(2000);
      let maxGap = 0;
      for (let i = 1; i < day.tasks.length; i++) maxGap = Math.max(maxGap, day.tasks[i]!.t - day.tasks[i - 1]!.t);
      expect(maxGap).to.be.below(5 * 60);
    });

    it('has medium tasks (1-120 s) and few held results', () => {
      const durations = day.tasks.map((t) => t.duration).sort((a, b) => a - b);
      expect(durations[0]).to.be.at.least(1);
      expect(durations[durations.length - 1]).to.be.at.most(120);
      expect(durations[Math.floor(durations.length / 2)]).to.be.within(5, 20);
      const held = day.tasks.filter((t) => t.holdFor > 0).length / day.tasks.length;
      expect(held).to.be.within(0.03, 0.07);
    });
  });

  it('rejects an unknown profile and a bad duration', () => {
    expect(() => generateTrace('nightly' as TraceProfile)).to.throw(EbbtideError, /unknown profile "nightly"; expected one of interactive, batch/);
    expect(() => generateTrace('batch', { duration: 0 })).to.throw(EbbtideError, /duration must be a number of seconds > 0/);
  });
});
