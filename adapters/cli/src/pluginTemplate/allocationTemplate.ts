import { type TemplateFile, type TemplateNames, readme } from './common.js';

/** An allocation: the target spread evenly over the plain pools, each within its bounds. */
export function allocationFiles(n: TemplateNames): TemplateFile[] {
  const C = n.className;
  return [
    {
      path: `src/${C}.ts`,
      text: `import type { AllocationRequest, AllocationResult, PoolAllocator, PoolView } from '@ebbtide/core/sdk';

/** What a pool may have this tick: its maximum, or what it has while it is capacity-limited. */
const cap = (p: PoolView) => (p.capacityLimited ? Math.min(p.maximum, p.current) : p.maximum);
const offersResources = (p: PoolView) => Object.keys(p.resources).length > 0;

/**
 * Spreads the cluster's target evenly over the plain pools, one worker at a time in config
 * order, each within its floor and its maximum, so no pool holds much more than its share (a
 * failing zone takes only its part with it). Pools that offer resources (GPUs) stay at their
 * floors unless there are only such pools; this one serves no resource demand (the built-in
 * cheapest-first does). Pure and synchronous, as every allocation must be: it runs unchanged in
 * \`ebbtide decide\`, the live loop and the simulator.
 */
export class ${C} implements PoolAllocator {
  allocate(r: AllocationRequest): AllocationResult {
    const floor = (p: PoolView) => Math.min(p.minimum, cap(p));
    const alloc = new Map(r.pools.map((p) => [p.name, floor(p)]));
    let left = Math.min(r.target, r.maximum) - [...alloc.values()].reduce((a, b) => a + b, 0);
    const plain = r.pools.filter((p) => !offersResources(p));
    const general = plain.length ? plain : r.pools;
    for (let open = general.filter((p) => alloc.get(p.name)! < cap(p)); left > 0 && open.length; open = open.filter((p) => alloc.get(p.name)! < cap(p))) {
      for (const p of open) {
        if (left <= 0) break;
        alloc.set(p.name, alloc.get(p.name)! + 1);
        left--;
      }
    }
    return {
      pools: r.pools.map((p) => ({
        pool: p.name,
        wanted: alloc.get(p.name)!,
        allowed: alloc.get(p.name)!,
        reason: plain.length && offersResources(p) ? 'resource pool: its floor' : p.capacityLimited ? 'capacity-limited: keeps what it has' : 'an even share',
      })),
      ...(left > 0 ? { explanation: { unplaced: left } } : {}),
    };
  }
}
`,
    },
    {
      path: 'src/index.ts',
      text: `import { definePlugin } from '@ebbtide/core/sdk';
import { ${C} } from './${C}.js';

export { ${C} } from './${C}.js';

/** \`allocation: ${n.plugin}\` (used with \`pools:\`). */
export default definePlugin({
  name: '${n.plugin}',
  description: 'spread the target evenly over the plain pools',
  register(r) {
    r.allocation('${n.plugin}', () => new ${C}());
  },
});
`,
    },
    {
      path: `test/${n.plugin}.test.ts`,
      text: `import assert from 'node:assert/strict';
import type { AllocationRequest, PoolView } from '@ebbtide/core/sdk';
import { createTestKernel, describeAllocation } from '@ebbtide/core/testing';
import plugin, { ${C} } from '../src/index.js';

// ebbtide's contract for allocations: one share per pool, within its bounds, the sum within the
// maximum, pure and deterministic (270 requests, and any you add with { requests }).
describeAllocation('${n.plugin}', () => new ${C}());

const pool = (name: string, index: number, extra: Partial<PoolView> = {}): PoolView => ({
  name,
  index,
  minimum: 0,
  maximum: 10,
  cost: 1,
  priority: 0,
  resources: {},
  labels: {},
  current: 0,
  ...extra,
});

describe('${n.plugin} through ebbtide', () => {
  it('spreads the target evenly and keeps a GPU pool at its floor', async () => {
    const kernel = await createTestKernel({ plugins: [plugin], config: { allocation: '${n.plugin}' } });
    const request: AllocationRequest = {
      time: 0,
      target: 7,
      maximum: 100,
      demand: {},
      pools: [pool('zone-a', 0), pool('zone-b', 1, { maximum: 2 }), pool('gpu', 2, { minimum: 1, resources: { GPU: 1 } })],
    };
    const shares = kernel.resolve('allocation').allocate(request).pools.map((s) => [s.pool, s.allowed]);
    assert.deepEqual(shares, [['zone-a', 4], ['zone-b', 2], ['gpu', 1]]);
  });
});
`,
    },
    {
      path: 'README.md',
      text: readme(
        n,
        'allocation',
        "it spreads the cluster's target evenly over the plain pools, each within its bounds.",
        `allocation: ${n.plugin}\npools:\n  - { name: zone-a, backend: { type: local }, maximum: 20 }\n  - { name: zone-b, backend: { type: local }, maximum: 20 }\n`,
      ),
    },
  ];
}
