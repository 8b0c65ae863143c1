import { expect } from 'chai';
import type { AllocationRequest, PoolView } from '@ebbtide/core';
import { cheapestFirst } from '../src/index.js';

function pool(name: string, index: number, o: Partial<PoolView> = {}): PoolView {
  return { name, index, minimum: 0, maximum: Infinity, cost: 1, priority: 0, resources: {}, labels: {}, current: 0, ...o };
}

function request(pools: PoolView[], target: number, o: Partial<AllocationRequest> = {}): AllocationRequest {
  return { time: 0, target, maximum: Infinity, demand: {}, pools, ...o };
}

const allowed = (r: ReturnType<typeof cheapestFirst>) => Object.fromEntries(r.pools.map((s) => [s.pool, s.allowed]));

describe('cheapestFirst', () => {
  const cheap = pool('cheap', 1, { maximum: 4 });
  const burst = pool('burst', 0, { cost: 3, maximum: 20 });

  it('fills the cheapest pool first, whatever the config order, and spills the rest to the next', () => {
    const r = cheapestFirst(request([burst, cheap], 6));
    expect(r.pools.map((s) => s.pool)).to.deep.equal(['cheap', 'burst']);
    expect(allowed(r)).to.deep.equal({ cheap: 4, burst: 2 });
    expect(r.pools[0]).to.deep.include({ wanted: 6, allowed: 4 });
    expect(r.pools[0]!.reason).to.contain('full at its maximum 4');
    expect(r.pools[1]).to.deep.include({ wanted: 2, allowed: 2 });
    expect(r.pools[1]!.reason).to.contain('spilled over (cheap is full)');
  });

  it('a target within the cheap pool leaves the expensive one at its floor: it is the first to shrink', () => {
    expect(allowed(cheapestFirst(request([burst, cheap], 3)))).to.deep.equal({ cheap: 3, burst: 0 });
    // A floor counts towards the target.
    expect(allowed(cheapestFirst(request([cheap, { ...burst, minimum: 1 }], 3)))).to.deep.equal({ cheap: 2, burst: 1 });
  });

  it('skips a capacity-limited pool (it keeps what it has) and says until when', () => {
    const limited = { ...cheap, current: 2, capacityLimited: { until: 12 * 3600 + 3 * 60 + 10, reason: 'quota', failures: 3 } };
    const r = cheapestFirst(request([limited, burst], 6));
    expect(allowed(r)).to.deep.equal({ cheap: 2, burst: 4 });
    expect(r.pools[0]!.reason).to.contain('skipped: capacity-limited until 12:03:10 after 3 failed starts');
    expect(r.pools[1]!.reason).to.contain('spilled over (cheap is capacity-limited)');
  });

  it('ties of cost go to the higher priority, then to config order', () => {
    const a = pool('a', 0, { maximum: 2 });
    const b = pool('b', 1, { maximum: 2, priority: 1 });
    const c = pool('c', 2, { maximum: 2, priority: 1 });
    expect(cheapestFirst(request([a, b, c], 3)).pools.map((s) => [s.pool, s.allowed])).to.deep.equal([
      ['b', 2],
      ['c', 1],
      ['a', 0],
    ]);
  });

  it('GPU demand grows only pools that offer GPUs, in workers of their size; CPU work never grows them', () => {
    const cpu = pool('cpu', 0, { maximum: 10 });
    const gpu = pool('gpu', 1, { cost: 5, maximum: 3, resources: { GPU: 1 } });
    const big = pool('big-gpu', 2, { cost: 8, maximum: 2, resources: { GPU: 4 } });
    expect(allowed(cheapestFirst(request([cpu, gpu, big], 8)))).to.deep.equal({ cpu: 8, gpu: 0, 'big-gpu': 0 });
    const r = cheapestFirst(request([cpu, gpu, big], 8, { demand: { GPU: 9 } }));
    // 3 one-GPU workers, then the 6 units left on 4-GPU workers: 2. The rest of the target on cpu.
    expect(allowed(r)).to.deep.equal({ gpu: 3, 'big-gpu': 2, cpu: 3 });
    expect(r.pools.find((s) => s.pool === 'gpu')!.reason).to.contain('GPU demand 9: 3 workers of 1 GPU');
    expect(r.pools.find((s) => s.pool === 'big-gpu')!.reason).to.contain('spilled over (gpu is full)');
  });

  it('demand no pool can serve is reported, not placed', () => {
    const r = cheapestFirst(request([cheap], 2, { demand: { TPU: 2 } }));
    expect(allowed(r)).to.deep.equal({ cheap: 2 });
    expect(r.explanation).to.deep.equal({ unserved: { TPU: 2 } });
  });

  it('the sum stays within the cluster maximum; what is left over is unmet', () => {
    const r = cheapestFirst(request([cheap, burst], 10, { maximum: 5 }));
    expect(allowed(r)).to.deep.equal({ cheap: 4, burst: 1 });
    expect(r.explanation).to.deep.equal({ unmet: 5 });
  });

  it('when every pool offers a resource, plain work uses them too (cheapest first)', () => {
    const gpu = pool('gpu', 0, { cost: 2, maximum: 5, resources: { GPU: 2 } });
    const mem = pool('mem', 1, { cost: 1, maximum: 5, resources: { MEM: 64 } });
    expect(allowed(cheapestFirst(request([gpu, mem], 7)))).to.deep.equal({ mem: 5, gpu: 2 });
  });
});
