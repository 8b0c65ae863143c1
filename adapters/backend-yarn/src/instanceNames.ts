/**
 * How YARN names the instances of a service component, and how to make it produce exactly the
 * names ebbtide's core chose.
 *
 * YARN (hadoop-yarn-services-core `Component`) names instances `{component}-{i}`: a new instance
 * takes the instance counter, skipping names in the component's `decommissioned_instances`;
 * decommissioning removes that instance and adds its name to the list for good; a flex down
 * removes the highest-numbered instances and lowers the counter by as many; a restarted service
 * AM recreates the first `number_of_containers` names not decommissioned. So, as long as a flex
 * down only ever removes the instances just below the counter, the live instances are always
 * **the first N indices not decommissioned** — pending ones included, which the Services API does
 * not list until they have a container.
 *
 * The component is named after the ebbtide cluster, so instance names have the core's form
 * `{cluster}-{i}`. To create the names the core asked for, the indices below them that nobody
 * wants are decommissioned before flexing up (YARN then skips them); to remove names, the run
 * just below the counter is flexed down (so YARN may give those names again, as the core's
 * counter rule reuses its latest name) and the rest is decommissioned.
 */
export interface ComponentView {
  /** `number_of_containers`: live instances, pending ones included. */
  count: number;
  /** `decommissioned_instances`, as indices. */
  decommissioned: ReadonlySet<number>;
}

/** The index of `{component}-{i}`, or undefined for another name. */
export function indexOf(component: string, name: string): number | undefined {
  if (!name.startsWith(`${component}-`)) return undefined;
  const rest = name.slice(component.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function nameOf(component: string, index: number): string {
  return `${component}-${index}`;
}

/** The indices YARN has alive (allocated or pending): the first `count` not decommissioned. */
export function liveIndices(view: ComponentView): number[] {
  const out: number[] = [];
  for (let i = 0; out.length < view.count; i++) if (!view.decommissioned.has(i)) out.push(i);
  return out;
}

/** One past the highest index YARN has used (YARN's instance counter). */
function counterOf(view: ComponentView, live: readonly number[]): number {
  let c = live.length ? live[live.length - 1]! + 1 : 0;
  for (const d of view.decommissioned) c = Math.max(c, d + 1);
  return c;
}

export interface RemovalPlan {
  /** Names to decommission (never given again). */
  decommission: number[];
  /** How many of the highest instances to flex down (their names may be given again). */
  flexDown: number;
  /** The component count after both. */
  count: number;
}

/** How to remove exactly `remove` (indices of live instances; others are ignored). */
export function planRemoval(view: ComponentView, remove: Iterable<number>): RemovalPlan {
  const live = liveIndices(view);
  const liveSet = new Set(live);
  const drop = new Set([...remove].filter((i) => liveSet.has(i)));
  let counter = counterOf(view, live);
  let flexDown = 0;
  // Only the run directly below the counter: a flex down lowers the counter by one per instance,
  // so any gap (a decommissioned name, or a live instance we keep) ends the run.
  while (counter > 0 && drop.has(counter - 1)) {
    drop.delete(counter - 1);
    flexDown++;
    counter--;
  }
  const decommission = [...drop].sort((a, b) => a - b);
  return { decommission, flexDown, count: live.length - decommission.length - flexDown };
}

export interface AdditionPlan {
  /** Indices below the wanted ones that nobody asked for, decommissioned first so YARN skips them. */
  skip: number[];
  /** The component count to flex to. */
  count: number;
  /** Wanted indices YARN can never give: decommissioned earlier. */
  impossible: number[];
  /** Wanted indices that are alive already (nothing to do). */
  existing: number[];
  /** Wanted indices YARN will create. */
  created: number[];
}

/** How to make YARN create exactly the wanted indices. */
export function planAddition(view: ComponentView, want: Iterable<number>): AdditionPlan {
  const live = liveIndices(view);
  const liveSet = new Set(live);
  const wanted = [...new Set(want)].sort((a, b) => a - b);
  const existing = wanted.filter((i) => liveSet.has(i));
  const impossible = wanted.filter((i) => !liveSet.has(i) && view.decommissioned.has(i));
  const created = wanted.filter((i) => !liveSet.has(i) && !view.decommissioned.has(i));
  const skip: number[] = [];
  if (created.length) {
    const createdSet = new Set(created);
    const top = created[created.length - 1]!;
    // Every index below the counter is live or decommissioned, so the free ones below the
    // highest wanted index are all at or above the counter: names YARN would hand out first.
    for (let i = 0; i < top; i++) {
      if (!liveSet.has(i) && !view.decommissioned.has(i) && !createdSet.has(i)) skip.push(i);
    }
  }
  return { skip, count: live.length + created.length, impossible, existing, created };
}
