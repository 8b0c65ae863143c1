import type { SchedulerEvent } from '../../src/contracts/SchedulerEvent.js';
import { SchedulingModel, type SchedulingModelOptions } from '../../src/scheduling/SchedulingModel.js';
import type { ModelTask, ModelWorker } from '../../src/scheduling/records.js';
import { SchedulerStateStore } from '../../src/state/SchedulerStateStore.js';

/** A model under test, the events it emitted, the assignments it made and a store fed by it. */
export interface Setup {
  model: SchedulingModel<string, string>;
  events: SchedulerEvent[];
  assigned: string[];
  store: SchedulerStateStore;
  add(name: string, nthreads?: number): ModelWorker<string, string>;
  submit(...keys: string[]): Array<ModelTask<string, string>>;
}

export function setup(lostResults: SchedulingModelOptions['lostResults'] = 'keep'): Setup {
  const events: SchedulerEvent[] = [];
  const assigned: string[] = [];
  const store = new SchedulerStateStore();
  const model = new SchedulingModel<string, string>({
    emit: (e) => {
      events.push(e);
      store.apply(e);
    },
    assigned: (t, w) => assigned.push(`${t.key}@${w.name}#${t.run}`),
    lostResults,
  });
  return {
    model,
    events,
    assigned,
    store,
    add: (name, nthreads = 1) => model.addWorker({ name, nthreads, memoryLimit: 0, address: `tcp://${name}`, host: 'h', labels: { pool: 'p' } }, `data of ${name}`),
    submit: (...keys) => keys.map((k) => model.submit(k, k.split('-')[0]!, `spec of ${k}`)),
  };
}

/** Task transitions as `key to [worker]`, in order. */
export function transitions(events: SchedulerEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'task.transition' ? [`${e.key} ${e.to}${e.worker ? ` ${e.worker}` : ''}`] : []));
}
