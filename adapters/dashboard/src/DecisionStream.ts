import type { ServerResponse } from 'node:http';
import type { HistoryEntry } from '@ebbtide/core';
import { toJson } from './json.js';

/** A client that reads slower than this many bytes behind is dropped (its browser reconnects and replays). */
const MAX_BUFFERED = 1 << 20;
/** A comment line keeps idle connections (and proxies) from timing out. */
const HEARTBEAT_MS = 15_000;

function frame(entry: HistoryEntry): string {
  return `id: ${entry.tick}\nevent: decision\ndata: ${toJson(entry)}\n\n`;
}

/**
 * `GET /api/decisions/stream`: server-sent events, one `decision` event per history entry as it
 * is pushed (a growing fold of quiet ticks comes again with the same `id` field in its data).
 *
 * Nothing of this runs on the tick's path: an entry is only queued there, and serialised once —
 * for every client together — on the next turn of the event loop. With no client connected,
 * nothing is queued at all.
 */
export class DecisionStream {
  private readonly clients = new Set<ServerResponse>();
  private queue: HistoryEntry[] = [];
  private scheduled = false;
  private readonly heartbeat: NodeJS.Timeout;
  private ended = false;

  constructor() {
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Opens a stream on `res`, replaying `backlog` first (what the client missed: entries after
   * its `Last-Event-ID` or `?since=`).
   */
  open(res: ServerResponse, backlog: readonly HistoryEntry[]): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    for (const e of backlog) res.write(frame(e));
    if (this.ended) {
      res.end('event: end\ndata: {}\n\n');
      return;
    }
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  /** Queues an entry for every client (a no-op without clients). */
  offer(entry: HistoryEntry): void {
    if (this.clients.size === 0) return;
    this.queue.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length) this.write(batch.map(frame).join(''));
  }

  private write(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy();
        this.clients.delete(res);
        continue;
      }
      res.write(text);
    }
  }

  /** Sends what is queued, then an `end` event, and closes every stream (the autoscaler stopped). */
  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.write('event: end\ndata: {}\n\n');
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.destroy();
    this.clients.clear();
  }
}
