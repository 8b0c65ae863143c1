import assert from 'node:assert/strict';
import type { AllocationRequest, PoolAllocator, PoolView } from '../contracts/PoolAllocator.js';
import { frozenCopy, withoutClockOrRandomness } from './purity.js';

function pool(name: string, index: number, o: Partial<PoolView> = {}): PoolView {
  return { name, index, minimum: 0, maximum: 10, cost: 1, priority: 0, resources: {}, labels: {}, current: 0, ...o };
}

const limited = { until: 300, reason: 'quota exceeded', failures: 2 };

/** Pool layouts the suite crosses with targets and demands: plain, tiered, full, limited, resource pools. */
function layouts(): Array<{ name: string; pools: PoolView[] }> {
  return [
    { name: 'one plain pool', pools: [pool('only', 0, { maximum: 8, current: 3 })] },
    { name: 'cheap and burst', pools: [pool('cheap', 0, { maximum: 4, current: 2 }), pool('burst', 1, { cost: 3, maximum: 20, current: 0 })] },
    { name: 'burst listed first', pools: [pool('burst', 0, { cost: 3, maximum: 20, current: 5 }), pool('cheap', 1, { maximum: 4, current: 4 })] },
    { name: 'floors', pools: [pool('a', 0, { minimum: 2, maximum: 3, current: 2 }), pool('b', 1, { minimum: 1, maximum: 5, cost: 2, current: 1 })] },
    { name: 'cheap capacity-limited', pools: [pool('cheap', 0, { maximum: 10, current: 2, capacityLimited: limited }), pool('burst', 1, { cost: 4, maximum: 10, current: 1 })] },
    { name: 'limited below its floor', pools: [pool('cheap', 0, { minimum: 3, maximum: 10, current: 1, capacityLimited: limited }), pool('burst', 1, { cost: 2, maximum: 10 })] },
    {
      name: 'plain and GPU',
      pools: [pool('cpu', 0, { maximum: 6, current: 2 }), pool('gpu', 1, { cost: 5, maximum: 4, resources: { GPU: 1 }, current: 1 }), pool('big-gpu', 2, { cost: 9, maximum: 2, resources: { GPU: 4 } })],
    },
    { name: 'only resource pools', pools: [pool('gpu', 0, { cost: 2, maximum: 5, resources: { GPU: 2 } }), pool('mem', 1, { cost: 1, maximum: 5, resources: { MEM: 64 } })] },
    { name: 'equal costs and priorities', pools: [pool('x', 0, { maximum: 3 }), pool('y', 1, { maximum: 3, priority: 5 }), pool('z', 2, { maximum: 3, priority: 5 })] },
  ];
}

function requests(extra: readonly AllocationRequest[]): Array<{ name: string; request: AllocationRequest }> {
  const out: Array<{ name: string; request: AllocationRequest }> = [];
  for (const l of layouts()) {
    for (const target of [0, 1, 3, 7, 40]) {
      for (const [dn, demand] of [['no demand', {}], ['GPU 3', { GPU: 3 }], ['GPU 9, MEM 100', { GPU: 9, MEM: 100 }]] as const) {
        for (const maximum of [Infinity, 6]) {
          out.push({ name: `${l.name}, target ${target}, ${dn}, maximum ${maximum}`, request: { time: 100, target, maximum, demand, pools: l.pools } });
        }
      }
    }
  }
  extra.forEach((request, i) => out.push({ name: `extra request ${i}`, request }));
  return out;
}

export interface AllocationSuiteOptions {
  /** More requests to check, besides the built-in layouts x targets x demands x maximums. */
  requests?: AllocationRequest[];
}

/**
 * The `PoolAllocator` conformance suite, for mocha. `make` returns a fresh allocation (as the
 * kernel would build it). Each assertion names the guarantee it checks (see `PoolAllocator`).
 */
export function describeAllocation(title: string, make: () => PoolAllocator, options: AllocationSuiteOptions = {}): void {
  describe(`${title} — PoolAllocator contract`, () => {
    const all = requests(options.requests ?? []);
    it(`${all.length} requests: one share per pool; within each pool's floor and bounds; a capacity-limited pool never grows; the sum within the cluster maximum; resource pools grown only for their resources; the target met when the bounds allow; pure and deterministic`, () => {
      for (const { name, request } of all) {
        const input = frozenCopy(request);
        const out = withoutClockOrRandomness('allocate()', () => make().allocate(input));
        const where = `(${name})`;
        assert.ok(out && Array.isArray(out.pools), `allocate must return { pools: [...] } ${where}`);
        const names = out.pools.map((s) => s.pool);
        assert.deepEqual([...names].sort(), request.pools.map((p) => p.name).sort(), `broken guarantee "one share per pool, each pool once" ${where}`);
        let sum = 0;
        let floors = 0;
        for (const s of out.pools) {
          const p = request.pools.find((x) => x.name === s.pool)!;
          const cap = p.capacityLimited ? Math.min(p.maximum, p.current) : p.maximum;
          const floor = Math.min(p.minimum, cap);
          floors += floor;
          sum += s.allowed;
          assert.ok(Number.isInteger(s.allowed) && s.allowed >= 0, `broken guarantee "allowed is a whole number >= 0" ${where}: ${s.pool} ${s.allowed}`);
          assert.ok(s.allowed >= floor, `broken guarantee "at least the pool's floor" ${where}: ${s.pool} got ${s.allowed}, floor ${floor}`);
          assert.ok(s.allowed <= p.maximum, `broken guarantee "at most the pool's maximum" ${where}: ${s.pool} got ${s.allowed}, maximum ${p.maximum}`);
          if (p.capacityLimited) assert.ok(s.allowed <= Math.max(floor, Math.min(p.current, p.maximum)), `broken guarantee "a capacity-limited pool never grows" ${where}: ${s.pool} got ${s.allowed}, has ${p.current}`);
          assert.equal(typeof s.reason, 'string', `broken guarantee "each share says why" ${where}: ${s.pool}`);
          const plainExists = request.pools.some((x) => Object.keys(x.resources).length === 0);
          const offered = Object.keys(p.resources);
          if (plainExists && offered.length && !offered.some((r) => (request.demand[r] ?? 0) > 0)) {
            assert.ok(s.allowed <= floor, `broken guarantee "a pool offering resources is not grown for work that does not need them" ${where}: ${s.pool} got ${s.allowed}`);
          }
        }
        assert.ok(sum <= Math.max(request.maximum, floors), `broken guarantee "the sum never exceeds the cluster maximum" ${where}: ${sum} > ${request.maximum}`);
        const plainOnly = request.pools.every((p) => Object.keys(p.resources).length === 0);
        if (plainOnly && Object.keys(request.demand).length === 0) {
          const room = request.pools.reduce((n, p) => n + (p.capacityLimited ? Math.min(p.maximum, p.current) : p.maximum), 0);
          const expected = Math.max(floors, Math.min(request.target, request.maximum, room));
          assert.equal(sum, expected, `broken guarantee "with no resource demand, the sum is the target whenever the bounds allow" ${where}`);
        }
        assert.deepEqual(withoutClockOrRandomness('allocate()', () => make().allocate(frozenCopy(request))), out, `broken guarantee "deterministic" ${where}`);
        assert.deepEqual(input, request, `broken guarantee "the request is not modified" ${where}`);
      }
    });
  });
}
