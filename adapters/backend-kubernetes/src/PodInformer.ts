import { type Logger, describeError } from '@ebbtide/core';
import { type V1Pod, Watch } from '@kubernetes/client-node';
import { type SchedulerLike, type Subscription, timer } from 'rxjs';
import { classify } from './apiErrors.js';
import { DEFAULT_RETRY, type KubeApi, backoffWithJitter } from './KubeApi.js';

export interface PodInformerHandlers {
  upsert(pod: V1Pod): void;
  remove(pod: V1Pod): void;
}

export interface PodInformerStats {
  lists: number;
  watches: number;
  /** Watch or list failures that forced a restart with backoff. */
  errors: number;
  /** 410 Gone: the watch's resourceVersion was too old; re-listed. */
  gone: number;
}

/**
 * One list + watch of the cluster's pods (by label selector), kept as a cache by name.
 *
 * client-node's own informer stops for good on any watch error other than 410; this one owns the
 * whole cycle instead: list (the cache is replaced, vanished pods reported removed) → watch from
 * the list's resourceVersion → on a clean close watch again from the last version seen; on 410
 * list again at once; on any other error list again after a jittered backoff; and every
 * `resyncMs` list again anyway (a watch can stall without an error).
 */
export class PodInformer {
  readonly pods = new Map<string, V1Pod>();
  readonly stats: PodInformerStats = { lists: 0, watches: 0, errors: 0, gone: 0 };
  private readonly watcher: Watch;
  private generation = 0;
  private abort?: AbortController;
  private resourceVersion = '';
  private failures = 0;
  private stopped = true;
  private resync?: Subscription;
  private retry?: Subscription;
  private synced?: { resolve: () => void; reject: (e: unknown) => void };

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
    private readonly labelSelector: string,
    private readonly resyncMs: number,
    private readonly rx: SchedulerLike,
    private readonly logger: Logger,
    private readonly on: PodInformerHandlers,
  ) {
    this.watcher = new Watch(api.kc);
  }

  /** Resolves after the first successful list; rejects if that list fails with a non-retryable error. */
  start(): Promise<void> {
    this.stopped = false;
    const p = new Promise<void>((resolve, reject) => (this.synced = { resolve, reject }));
    void this.relist('start');
    return p;
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.abort?.abort();
    this.resync?.unsubscribe();
    this.retry?.unsubscribe();
  }

  private async relist(why: string): Promise<void> {
    const gen = ++this.generation;
    this.abort?.abort();
    this.resync?.unsubscribe();
    this.retry?.unsubscribe();
    let list;
    try {
      this.stats.lists++;
      list = await this.api.once('list pods', (opts) => this.api.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector }, opts as never));
    } catch (e) {
      if (gen !== this.generation || this.stopped) return;
      const c = classify(e);
      if (this.synced && c.kind !== 'retry') {
        this.synced.reject(e);
        this.synced = undefined;
        return;
      }
      this.failed(`list (${why})`, e);
      return;
    }
    if (gen !== this.generation || this.stopped) return;
    const seen = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata!.name!;
      seen.add(name);
      const old = this.pods.get(name);
      this.pods.set(name, pod);
      if (!old || old.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.on.upsert(pod);
    }
    for (const [name, pod] of [...this.pods]) {
      if (!seen.has(name)) {
        this.pods.delete(name);
        this.on.remove(pod);
      }
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.synced?.resolve();
    this.synced = undefined;
    this.resync = timer(this.resyncMs, this.rx).subscribe(() => void this.relist('periodic resync'));
    void this.watch(gen);
  }

  private failed(what: string, e: unknown): void {
    this.stats.errors++;
    this.failures++;
    const delayMs = backoffWithJitter(this.failures, DEFAULT_RETRY);
    this.logger.warn({ event: 'informer.restart', what, error: describeError(e), attempt: this.failures, delayMs }, `pod ${what} failed; listing again in ${delayMs} ms`);
    const gen = this.generation;
    this.retry = timer(delayMs, this.rx).subscribe(() => {
      if (gen === this.generation && !this.stopped) void this.relist('after an error');
    });
  }

  private async watch(gen: number): Promise<void> {
    if (gen !== this.generation || this.stopped) return;
    this.stats.watches++;
    let gone = false;
    let events = 0;
    const path = `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
    const query = { resourceVersion: this.resourceVersion, labelSelector: this.labelSelector, allowWatchBookmarks: true, timeoutSeconds: 240 + Math.floor(Math.random() * 120) };
    const onEvent = (type: string, obj: V1Pod & { code?: number }) => {
      if (gen !== this.generation) return;
      events++;
      if (type === 'ERROR') {
        if (obj.code === 410) gone = true;
        return;
      }
      const rv = obj.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (type === 'BOOKMARK') return;
      const name = obj.metadata!.name!;
      if (type === 'DELETED') {
        this.pods.delete(name);
        this.on.remove(obj);
      } else {
        this.pods.set(name, obj);
        this.on.upsert(obj);
      }
    };
    const onDone = (err: unknown) => {
      if (gen !== this.generation || this.stopped) return;
      const status = (err as { statusCode?: number } | null)?.statusCode;
      if (gone || status === 410) {
        this.stats.gone++;
        this.logger.info({ event: 'informer.gone' }, 'pod watch expired (410 Gone); listing again');
        void this.relist('410 Gone');
      } else if (err) {
        this.failed('watch', err);
      } else if (events > 0) {
        // A clean close (server timeout or a dropped stream): resume from the last version seen.
        this.failures = 0;
        void this.watch(gen);
      } else {
        // Closed without a single event: resume too, but back off if it keeps happening.
        this.failures++;
        if (this.failures < 2) return void this.watch(gen);
        const delayMs = backoffWithJitter(this.failures, DEFAULT_RETRY);
        this.retry = timer(delayMs, this.rx).subscribe(() => void this.watch(gen));
      }
    };
    try {
      this.abort = await this.watcher.watch(path, query, onEvent, onDone);
    } catch (e) {
      onDone(e);
    }
  }
}
