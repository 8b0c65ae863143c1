import type { Subscription } from 'rxjs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Autoscaler, DecisionRecord } from '@ebbtide/core';

/**
 * The Prometheus metrics of one running autoscaler, in a registry of its own (two servers in
 * one process never mix). Counters move with each decision and backend report — a few
 * increments, nothing more on a tick; gauges are read from the autoscaler when scraped.
 */
export class DashboardMetrics {
  readonly registry = new Registry();
  private readonly decisions: Counter<'status'>;
  private readonly tickDuration: Histogram;
  private readonly retirements: Counter<'outcome'>;
  private readonly backendErrors: Counter<'class'>;
  private readonly sub: Subscription;
  private last?: DecisionRecord;

  constructor(private readonly auto: Autoscaler) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const now = () => auto.kernel.rxScheduler.now() / 1000;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('ebbtide_workers_target', "Workers the heuristic wants, before the bounds (manual mode: the asked-for count)", () => this.last?.target ?? 0);
    gauge('ebbtide_workers_desired', 'Workers wanted after the bounds and any capacity hold (the decision\'s safe target)', () => this.last?.safeTarget ?? 0);
    gauge('ebbtide_workers_observed', 'Workers connected to the scheduler', () => auto.store.counts().workers);
    gauge('ebbtide_workers_requested', 'Workers the backend accepted and has not reported gone', () => auto.cluster.requested.length);
    gauge('ebbtide_workers_planned', 'Workers in the plan', () => auto.cluster.plan.length);
    gauge('ebbtide_pending_starts', 'Workers requested but not yet connected to the scheduler', () => {
      const observed = new Set(auto.store.workerNames());
      return auto.cluster.requested.filter((n) => !observed.has(n)).length;
    });
    gauge('ebbtide_blind_seconds', 'Seconds since the scheduler could last be read (0 while connected); nothing is scaled while blind', () =>
      auto.store.connected ? 0 : Math.max(0, now() - (auto.adaptive.blind ?? now())),
    );
    gauge('ebbtide_capacity_limited', '1 while the backend is out of capacity and starts are held back', () => (auto.cluster.capacityLimit ? 1 : 0));
    gauge('ebbtide_adaptive_minimum', 'The adaptive lower bound now', () => auto.adaptive.scaling.minimum);
    gauge('ebbtide_adaptive_maximum', 'The adaptive upper bound now (+Inf for none)', () => auto.adaptive.scaling.maximum);
    new Gauge({
      name: 'ebbtide_scaling_mode',
      help: '1 for the scaling mode in force (adaptive or manual), 0 for the other',
      labelNames: ['mode'],
      registers,
      collect() {
        const mode = auto.adaptive.scaling.mode;
        this.set({ mode: 'adaptive' }, mode === 'adaptive' ? 1 : 0);
        this.set({ mode: 'manual' }, mode === 'manual' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ebbtide_tasks',
      help: 'Tasks on the scheduler by state (queued, processing, unrunnable)',
      labelNames: ['state'],
      registers,
      collect() {
        const c = auto.store.counts();
        this.set({ state: 'queued' }, c.queued);
        this.set({ state: 'processing' }, c.processing);
        this.set({ state: 'unrunnable' }, c.unrunnable);
      },
    });
    this.decisions = new Counter({ name: 'ebbtide_decisions_total', help: 'Decisions by recommendation (same, up, down)', labelNames: ['status'], registers });
    for (const status of ['same', 'up', 'down']) this.decisions.inc({ status }, 0);
    this.tickDuration = new Histogram({
      name: 'ebbtide_tick_duration_seconds',
      help: "Seconds one adaptive tick took, its actions included, on the loop's clock (millisecond resolution)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.retirements = new Counter({
      name: 'ebbtide_retirements_total',
      help: 'Workers closed by scale-down, by outcome: retired (results moved, then stopped), cancelled (never connected), kept (held results that could not move)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['retired', 'cancelled', 'kept']) this.retirements.inc({ outcome }, 0);
    this.backendErrors = new Counter({
      name: 'ebbtide_backend_errors_total',
      help: 'Failed actions by error class (BACKEND_API, BACKEND_CAPACITY, BACKEND_START_FAILED, ...), and workers that exited unexpectedly (worker-exited) or got no resources (worker-capacity)',
      labelNames: ['class'],
      registers,
    });
    this.sub = auto.decisions$.subscribe((r) => this.onDecision(r));
    this.sub.add(
      auto.backend.status$.subscribe((list) => {
        for (const s of list) if (s.phase === 'exited' && s.failed) this.backendErrors.inc({ class: s.capacity ? 'worker-capacity' : 'worker-exited' });
      }),
    );
  }

  private onDecision(r: DecisionRecord): void {
    if (r.outcome?.status === 'shutdown') return;
    this.last = r;
    this.decisions.inc({ status: r.recommendation.status });
    if (r.duration !== undefined) this.tickDuration.observe(r.duration);
    const o = r.outcome;
    if (!o) return;
    if (o.retired?.length) this.retirements.inc({ outcome: 'retired' }, o.retired.length);
    if (o.cancelled?.length) this.retirements.inc({ outcome: 'cancelled' }, o.cancelled.length);
    if (o.kept?.length) this.retirements.inc({ outcome: 'kept' }, o.kept.length);
    if (o.status === 'failed') this.backendErrors.inc({ class: o.error?.code ?? 'unknown' });
  }

  /** The text exposition format, and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  close(): void {
    this.sub.unsubscribe();
    this.registry.clear();
  }
}
