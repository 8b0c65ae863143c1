import type { AllocationRequest, AllocationResult, PoolShare, PoolView } from '@ebbtide/core';

interface Slot {
  view: PoolView;
  /** Most it may have: its maximum, or what it has while capacity-limited. */
  cap: number;
  alloc: number;
  wanted: number;
  notes: string[];
}

/** `HH:MM:SS` (UTC) of clock seconds. */
function clock(seconds: number): string {
  return new Date(Math.round(seconds * 1000)).toISOString().slice(11, 19);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function limitedNote(v: PoolView): string {
  const c = v.capacityLimited!;
  return `skipped: capacity-limited until ${clock(c.until)} after ${plural(c.failures, 'failed start')}`;
}

/**
 * Offers `need` workers to each slot in turn until it is met; returns what is left. A slot that
 * cannot take all of it says why, and the next one says where its share spilled from.
 */
function fill(slots: Slot[], need: number, headroom: { left: number }, describe: (s: Slot, add: number) => string, perWorker: (s: Slot) => number = () => 1): number {
  let left = need;
  const full: string[] = [];
  for (const s of slots) {
    if (left <= 0) break;
    const per = perWorker(s);
    const workers = Math.ceil(left / per);
    s.wanted += workers;
    const room = Math.max(0, Math.min(s.cap - s.alloc, headroom.left));
    const add = Math.min(workers, room);
    if (add > 0) {
      s.alloc += add;
      headroom.left -= add;
      left -= add * per;
      s.notes.push(full.length ? `${describe(s, add)}, spilled over (${full.join('; ')})` : describe(s, add));
    }
    if (add < workers) {
      if (s.view.capacityLimited && s.cap < s.view.maximum) {
        s.notes.push(limitedNote(s.view));
        full.push(`${s.view.name} is capacity-limited`);
      } else if (headroom.left <= 0 && s.cap - s.alloc > 0) {
        s.notes.push('capped by the cluster maximum');
        full.push('the cluster is at its maximum');
      } else {
        s.notes.push(`full at its maximum ${s.view.maximum}`);
        full.push(`${s.view.name} is full`);
      }
    }
  }
  return Math.max(0, left);
}

/**
 * The `cheapest-first` allocation, pure: every pool starts at its floor; each resource in demand
 * (in name order) is met by the cheapest pools offering it; the rest of the target goes to the
 * cheapest pools of plain workers (pools that offer no resource; all pools when every one
 * offers some). Ties of cost go to the higher `priority`, then to config order. A pool that is
 * full (its maximum) or capacity-limited (it keeps what it has) passes the rest on: it spills
 * over to the next. The sum never exceeds the cluster's maximum.
 *
 * Scale-down falls out of the same order: as the target drops, the most expensive pools lose
 * their share first.
 */
export function cheapestFirst(req: AllocationRequest): AllocationResult {
  const order = [...req.pools].sort((a, b) => a.cost - b.cost || b.priority - a.priority || a.index - b.index);
  const slots: Slot[] = order.map((v) => {
    const cap = v.capacityLimited ? Math.min(v.maximum, v.current) : v.maximum;
    const floor = Math.min(v.minimum, cap);
    const notes: string[] = [];
    if (floor > 0) notes.push(`its minimum ${floor}`);
    if (floor < v.minimum) notes.push(`below its minimum ${v.minimum}: ${limitedNote(v)}`);
    return { view: v, cap, alloc: floor, wanted: floor, notes };
  });
  const headroom = { left: Math.max(0, req.maximum - slots.reduce((n, s) => n + s.alloc, 0)) };
  const explanation: Record<string, unknown> = {};

  const unserved: Record<string, number> = {};
  for (const r of Object.keys(req.demand).sort()) {
    const units = req.demand[r]!;
    if (!(units > 0)) continue;
    const offering = slots.filter((s) => (s.view.resources[r] ?? 0) > 0);
    const per = (s: Slot) => s.view.resources[r]!;
    const covered = offering.reduce((n, s) => n + s.alloc * per(s), 0);
    if (!offering.length) {
      unserved[r] = units;
      continue;
    }
    const left = fill(offering, units - covered, headroom, (s, add) => `${r} demand ${units}: ${plural(add, 'worker')} of ${per(s)} ${r}`, per);
    if (left > 0) unserved[r] = left;
  }
  if (Object.keys(unserved).length) explanation.unserved = unserved;

  const plain = slots.filter((s) => Object.keys(s.view.resources).length === 0);
  const general = plain.length ? plain : slots;
  const allocated = slots.reduce((n, s) => n + s.alloc, 0);
  const need = Math.max(0, req.target - allocated);
  const unmet = fill(general, need, headroom, (_s, add) => `${plural(add, 'worker')} of the target`);
  if (unmet > 0) explanation.unmet = unmet;

  for (const s of slots) {
    if (s.notes.length === 0) {
      s.notes.push(
        Object.keys(s.view.resources).length && plain.length
          ? `offers ${Object.keys(s.view.resources).join(', ')}: grown only for work that needs it`
          : s.view.capacityLimited
            ? limitedNote(s.view)
            : 'not needed: cheaper pools cover the target',
      );
    }
  }
  const pools: PoolShare[] = slots.map((s) => ({ pool: s.view.name, wanted: s.wanted, allowed: s.alloc, reason: s.notes.join('; ') }));
  return Object.keys(explanation).length ? { pools, explanation } : { pools };
}
