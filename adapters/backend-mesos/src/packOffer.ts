/** A resource of an offer as the master sends it (the fields packing looks at; the rest is copied). */
export interface OfferedResource {
  name: string;
  type: string;
  scalar?: { value: number };
  role?: string;
  allocation_info?: { role: string };
  reservations?: unknown[];
  [field: string]: unknown;
}

/** What one worker task needs. */
export interface WantedTask {
  name: string;
  cpus: number;
  /** MB. */
  mem: number;
}

export interface PackedTask {
  name: string;
  /** Resources for the TaskInfo, carved from the offer's entries with their role fields copied. */
  resources: OfferedResource[];
}

const EPS = 1e-9;
// Mesos keeps scalars to three decimals; so do we, so 0.1 + 0.2 never asks for 0.30000000000000004.
const round = (x: number) => Math.round(x * 1000) / 1000;

function free(entries: OfferedResource[], name: string): number {
  return entries.filter((r) => r.name === name && r.type === 'SCALAR').reduce((a, r) => a + (r.scalar?.value ?? 0), 0);
}

/** Takes `amount` of `name` from the entries (mutating their values); returns the task's pieces. */
function take(entries: OfferedResource[], name: string, amount: number): OfferedResource[] {
  const out: OfferedResource[] = [];
  let left = amount;
  for (const r of entries) {
    if (left <= EPS) break;
    if (r.name !== name || r.type !== 'SCALAR' || !r.scalar || r.scalar.value <= EPS) continue;
    const n = round(Math.min(left, r.scalar.value));
    r.scalar = { value: round(r.scalar.value - n) };
    left = round(left - n);
    // Same role, reservations and allocation_info as the offered piece: the master checks them.
    const { scalar: _s, ...rest } = r;
    out.push({ ...rest, scalar: { value: n } });
  }
  return out;
}

/**
 * Packs wanted tasks, first come first served, into one offer by its scalar cpus and mem, as
 * many as fit; a task that does not fit does not block smaller ones behind it. Each task's
 * resources are taken from the offer's own entries (so an offer's `allocation_info.role` and any
 * reservation are carried into the task, as a MULTI_ROLE master requires). Pure.
 */
export function packOffer(offered: readonly OfferedResource[], wanted: readonly WantedTask[]): PackedTask[] {
  const entries = offered.map((r) => ({ ...r, ...(r.scalar ? { scalar: { ...r.scalar } } : {}) }));
  const packed: PackedTask[] = [];
  for (const w of wanted) {
    if (w.cpus > free(entries, 'cpus') + EPS || w.mem > free(entries, 'mem') + EPS) continue;
    packed.push({ name: w.name, resources: [...take(entries, 'cpus', w.cpus), ...take(entries, 'mem', w.mem)] });
  }
  return packed;
}

/** Scalar cpus and mem of an offer, for messages ("largest offer seen"). */
export function offerSize(offered: readonly OfferedResource[]): { cpus: number; mem: number } {
  return { cpus: round(free([...offered], 'cpus')), mem: round(free([...offered], 'mem')) };
}
