import { expect } from 'chai';
import { activeUntil, parseCron, scheduledBounds } from '../../src/pools/schedule.js';
import type { ScheduleEntry } from '../../src/pools/GuardRails.js';

const at = (iso: string) => Date.parse(iso) / 1000;

describe('schedule (cron floors and ceilings, croner, time zones)', () => {
  const office: ScheduleEntry = { cron: '0 9 * * 1-5', duration: 8 * 3600, minimum: 4, timezone: 'UTC' };

  it('a window opens when the cron fires and lasts its duration', () => {
    // 2024-06-03 is a Monday.
    expect(activeUntil(office, at('2024-06-03T08:59:59Z'))).to.equal(undefined);
    expect(activeUntil(office, at('2024-06-03T09:00:00Z'))).to.equal(at('2024-06-03T17:00:00Z'));
    expect(activeUntil(office, at('2024-06-03T16:59:59Z'))).to.equal(at('2024-06-03T17:00:00Z'));
    expect(activeUntil(office, at('2024-06-03T17:00:00Z'))).to.equal(undefined);
    expect(activeUntil(office, at('2024-06-08T10:00:00Z')), 'a Saturday').to.equal(undefined);
  });

  it('a floor across a time-zone change of day: Monday 09:00 in Auckland is Sunday 21:00 UTC', () => {
    const nz: ScheduleEntry = { ...office, timezone: 'Pacific/Auckland' };
    // Sunday 2024-06-02 in UTC, already Monday in New Zealand (NZST, UTC+12).
    expect(activeUntil(nz, at('2024-06-02T20:59:00Z'))).to.equal(undefined);
    expect(activeUntil(nz, at('2024-06-02T21:00:00Z'))).to.equal(at('2024-06-03T05:00:00Z'));
    const b = scheduledBounds([nz], at('2024-06-02T23:30:00Z'), 0, 10);
    expect(b).to.deep.include({ minimum: 4, maximum: 10 });
    expect(b.effects).to.deep.equal([{ guard: 'schedule', effect: 'schedule "0 9 * * 1-5" (Pacific/Auckland) raises the minimum to 4 until 05:00:00', from: 0, to: 4 }]);
    // Friday 09:00 NZST is Thursday 21:00 UTC; Saturday in NZ (Friday 21:00 UTC) has no window.
    expect(activeUntil(nz, at('2024-06-06T21:00:00Z'))).to.equal(at('2024-06-07T05:00:00Z'));
    expect(activeUntil(nz, at('2024-06-07T21:00:00Z'))).to.equal(undefined);
    // The same instant under UTC rules is a Sunday evening: no floor.
    expect(scheduledBounds([office], at('2024-06-02T23:30:00Z'), 0, 10)).to.deep.equal({ minimum: 0, maximum: 10, effects: [] });
  });

  it('follows the zone across a daylight-saving change (09:00 Berlin is 08:00 UTC in winter, 07:00 in summer)', () => {
    const berlin: ScheduleEntry = { cron: '0 9 * * *', duration: 3600, minimum: 2, timezone: 'Europe/Berlin' };
    expect(activeUntil(berlin, at('2024-03-30T08:00:00Z'))).to.equal(at('2024-03-30T09:00:00Z'));
    expect(activeUntil(berlin, at('2024-03-31T07:00:00Z'))).to.equal(at('2024-03-31T08:00:00Z'));
    expect(activeUntil(berlin, at('2024-03-31T08:30:00Z'))).to.equal(undefined);
  });

  it('a window longer than the gap between firings stays open through the next firing', () => {
    const hourly: ScheduleEntry = { cron: '0 * * * *', duration: 90 * 60, maximum: 3, timezone: 'UTC' };
    expect(activeUntil(hourly, at('2024-06-03T10:45:00Z'))).to.equal(at('2024-06-03T11:30:00Z'));
    // At 11:15 both the 10:00 and the 11:00 windows are open; the later one ends last.
    expect(activeUntil(hourly, at('2024-06-03T11:15:00Z'))).to.equal(at('2024-06-03T12:30:00Z'));
  });

  it('ceilings lower the maximum, the highest floor and the lowest ceiling win, and a ceiling beats a crossing floor', () => {
    const t = at('2024-06-03T10:00:00Z');
    const night: ScheduleEntry = { cron: '0 8 * * *', duration: 4 * 3600, maximum: 2, timezone: 'UTC' };
    const two: ScheduleEntry = { ...office, minimum: 6 };
    const b = scheduledBounds([office, two, night], t, 1, 8, 'cheap');
    expect(b.minimum).to.equal(2);
    expect(b.maximum).to.equal(2);
    expect(b.effects.map((e) => e.effect)).to.deep.equal([
      'schedule "0 9 * * 1-5" raises the minimum to 4 until 17:00:00',
      'schedule "0 9 * * 1-5" raises the minimum to 6 until 17:00:00',
      'schedule "0 8 * * *" lowers the maximum to 2 until 12:00:00',
      'the scheduled ceiling 2 wins over the floor 6',
    ]);
    expect(b.effects.every((e) => e.pool === 'cheap')).to.equal(true);
  });

  it('rejects a bad expression or time zone with the key and what is expected', () => {
    expect(() => parseCron('61 * * * *', 'UTC', 'adaptive.schedule[0]')).to.throw(/^adaptive\.schedule\[0\]: expected a five-field cron expression .*minute/);
    expect(() => parseCron('0 9 * * *', 'Mars/Olympus', 'pools[1].schedule[0]')).to.throw(/^pools\[1\]\.schedule\[0\]: .*Mars\/Olympus/);
    expect(() => parseCron('0 9 * * * *', 'UTC', 'k')).to.throw(/requires exactly 5 parts/);
  });
});
