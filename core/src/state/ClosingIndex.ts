import type { WorkerInfo } from '../contracts/WorkerInfo.js';
import type { WorkerKey } from '../contracts/WorkerKey.js';
import type { ClosingGroup } from '../contracts/WorkersToCloseView.js';
import type { WorkerState } from './WorkerState.js';

/** Groups up to this size re-add their members' numbers in registration order, as Dask does; larger ones add differences. */
const EXACT_SUM_SIZE = 32;

/** A group of candidate workers, and its node in the order (a treap threaded as a list). */
class Group implements ClosingGroup {
  readonly members: WorkerState[] = [];
  private names: string[] | undefined;
  nbytes = 0;
  memoryLimit = 0;
  busyMembers = 0;
  left: Group | null = null;
  right: Group | null = null;
  prev: Group | null = null;
  next: Group | null = null;
  inTree = false;

  constructor(
    readonly key: unknown,
    readonly priority: number,
  ) {}

  get size(): number {
    return this.members.length;
  }
  get idle(): boolean {
    return this.busyMembers === 0;
  }
  get workers(): readonly string[] {
    return (this.names ??= this.members.map((m) => m.info.name));
  }
  get firstSeq(): number {
    return this.members[0]!.seq;
  }
  membersChanged(): void {
    this.names = undefined;
  }
}

/** What a member added to its group, to take it back out exactly. */
interface Member {
  group: Group;
  nbytes: number;
  memoryLimit: number;
  busy: boolean;
}

/** True when `a` closes before `b`: idle first, then fewer bytes, then the later-registered first. */
function before(a: Group, b: Group): boolean {
  const ai = a.busyMembers === 0;
  if (ai !== (b.busyMembers === 0)) return ai;
  if (a.nbytes !== b.nbytes) return a.nbytes < b.nbytes;
  return a.firstSeq > b.firstSeq;
}

/**
 * Dask's `workers_to_close` order for one grouping, kept as workers change: every update of a
 * worker costs O(log W) (O(log W + group size) when it joins or leaves a group), and reading the
 * first k groups costs O(k). Workers are queued on `dirty` by the store as they change and
 * folded in by `flush` when a decision asks for the order, so a burst of task events costs one
 * update per worker.
 */
export class ClosingIndex {
  /** Workers changed since the last flush (each once: its `dirty` bit says it is queued). */
  readonly dirty: WorkerState[] = [];
  candidateMemoryLimit = 0;
  candidateBytes = 0;
  /** Bumped whenever the order, a group or a sum changes: a view of the same revision shows the same thing. */
  revision = 0;
  private readonly members = new Map<WorkerState, Member>();
  private readonly groups = new Map<unknown, Group>();
  private root: Group | null = null;
  private head: Group | null = null;
  private seed = 0x9e3779b9;

  constructor(
    readonly bit: number,
    private readonly key: WorkerKey | undefined,
    private readonly infoOf: (ws: WorkerState) => WorkerInfo,
  ) {}

  queue(ws: WorkerState): void {
    ws.dirty |= this.bit;
    this.dirty.push(ws);
  }

  flush(): void {
    const d = this.dirty;
    const clear = ~this.bit;
    for (let i = 0; i < d.length; i++) {
      const ws = d[i]!;
      ws.dirty &= clear;
      this.update(ws);
    }
    d.length = 0;
  }

  /** Forgets the queued workers' bits (when the store drops this index). */
  release(): void {
    const clear = ~this.bit;
    for (const ws of this.dirty) ws.dirty &= clear;
    this.dirty.length = 0;
  }

  /** Visits the groups in closing order until `visit` returns false. */
  walk(visit: (g: ClosingGroup) => boolean): void {
    for (let g = this.head; g; g = g.next) if (!visit(g)) return;
  }

  /** Places one worker: joins, moves within, or leaves the order. */
  update(ws: WorkerState): void {
    const m = this.members.get(ws);
    if (!ws.alive || ws.longRunning > 0) {
      if (m) this.leave(ws, m);
      return;
    }
    const k = this.key ? this.key.key(this.infoOf(ws)) : ws;
    const isBusy = ws.positive > 0;
    const { nbytes, memoryLimit } = ws.info;
    if (m && m.group.key === k) {
      if (m.nbytes === nbytes && m.memoryLimit === memoryLimit && m.busy === isBusy) return;
      this.revision++;
      const g = m.group;
      this.detach(g);
      const dBytes = nbytes - m.nbytes;
      const dLimit = memoryLimit - m.memoryLimit;
      this.candidateBytes += dBytes;
      this.candidateMemoryLimit += dLimit;
      g.busyMembers += (isBusy ? 1 : 0) - (m.busy ? 1 : 0);
      m.nbytes = nbytes;
      m.memoryLimit = memoryLimit;
      m.busy = isBusy;
      this.resum(g, dBytes, dLimit);
      this.attach(g);
      return;
    }
    this.revision++;
    if (m) this.leave(ws, m);
    let g = this.groups.get(k);
    if (!g) {
      g = new Group(k, this.random());
      this.groups.set(k, g);
    } else this.detach(g);
    const at = insertionPoint(g.members, ws.seq);
    if (at === g.members.length) g.members.push(ws);
    else g.members.splice(at, 0, ws);
    g.membersChanged();
    g.busyMembers += isBusy ? 1 : 0;
    this.members.set(ws, { group: g, nbytes, memoryLimit, busy: isBusy });
    this.candidateBytes += nbytes;
    this.candidateMemoryLimit += memoryLimit;
    this.resum(g, nbytes, memoryLimit);
    this.attach(g);
  }

  private leave(ws: WorkerState, m: Member): void {
    this.revision++;
    const g = m.group;
    this.detach(g);
    g.members.splice(g.members.indexOf(ws), 1);
    g.membersChanged();
    g.busyMembers -= m.busy ? 1 : 0;
    this.members.delete(ws);
    this.candidateBytes -= m.nbytes;
    this.candidateMemoryLimit -= m.memoryLimit;
    if (g.members.length === 0) {
      this.groups.delete(g.key);
      return;
    }
    this.resum(g, -m.nbytes, -m.memoryLimit);
    this.attach(g);
  }

  /** A group's sums after a member changed: re-added in registration order when small (bit-identical to Dask's sums), else adjusted. */
  private resum(g: Group, dBytes: number, dLimit: number): void {
    if (g.members.length <= EXACT_SUM_SIZE) {
      let b = 0;
      let l = 0;
      for (const w of g.members) {
        const mm = this.members.get(w)!;
        b += mm.nbytes;
        l += mm.memoryLimit;
      }
      g.nbytes = b;
      g.memoryLimit = l;
    } else {
      g.nbytes += dBytes;
      g.memoryLimit += dLimit;
    }
  }

  private random(): number {
    // xorshift32: deterministic, so the tree's shape (never its order) is the same every run.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  private attach(g: Group): void {
    let pred: Group | null = null;
    let succ: Group | null = null;
    for (let t = this.root; t; ) {
      if (before(g, t)) {
        succ = t;
        t = t.left;
      } else {
        pred = t;
        t = t.right;
      }
    }
    g.prev = pred;
    g.next = succ;
    if (pred) pred.next = g;
    else this.head = g;
    if (succ) succ.prev = g;
    this.root = insert(this.root, g);
    g.inTree = true;
  }

  private detach(g: Group): void {
    if (!g.inTree) return;
    this.root = remove(this.root!, g);
    if (g.prev) g.prev.next = g.next;
    else this.head = g.next;
    if (g.next) g.next.prev = g.prev;
    g.prev = g.next = g.left = g.right = null;
    g.inTree = false;
  }
}

function insertionPoint(members: readonly WorkerState[], seq: number): number {
  let lo = 0;
  let hi = members.length;
  if (hi === 0 || members[hi - 1]!.seq < seq) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (members[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insert(t: Group | null, g: Group): Group {
  if (!t) return g;
  if (before(g, t)) {
    t.left = insert(t.left, g);
    if (t.left.priority > t.priority) {
      const l = t.left;
      t.left = l.right;
      l.right = t;
      return l;
    }
  } else {
    t.right = insert(t.right, g);
    if (t.right.priority > t.priority) {
      const r = t.right;
      t.right = r.left;
      r.left = t;
      return r;
    }
  }
  return t;
}

function remove(t: Group, g: Group): Group | null {
  if (t === g) return merge(t.left, t.right);
  if (before(g, t)) t.left = remove(t.left!, g);
  else t.right = remove(t.right!, g);
  return t;
}

function merge(a: Group | null, b: Group | null): Group | null {
  if (!a) return b;
  if (!b) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return a;
  }
  b.left = merge(a, b.left);
  return b;
}
