import { MessageChannel } from 'node:worker_threads';

/** Bytes parked on one channel before it is closed (which frees them). */
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Frees socket chunks the moment their bytes have been copied elsewhere, instead of at the next
 * garbage collection.
 *
 * Why: a socket chunk's memory is freed only when V8 collects its `Buffer`, and V8 collects on
 * its own schedule (for external memory, roughly every 64 MB). Between two collections the C
 * allocator's heap grows by everything received, and it keeps that high-water mark after the
 * chunks are freed (its heap can only shrink from the top). So every large frame, finished or
 * abandoned, left tens of megabytes behind. A chunk transferred through a `MessageChannel` is
 * detached from its `Buffer` and owned by the pending message; closing the channel, unread, frees
 * it outright.
 *
 * Only a chunk that is the whole of its `ArrayBuffer` is released (a slice of a shared pool never
 * is); one that cannot be transferred is left to the garbage collector, as before.
 */
export class ChunkReleaser {
  private channel?: MessageChannel;
  private parked = 0;

  /** Detaches `chunk` (it reads as empty afterwards) and frees its memory soon. */
  release(chunk: Buffer): void {
    const ab = chunk.buffer;
    if (chunk.byteOffset !== 0 || chunk.length !== ab.byteLength || ab.byteLength === 0 || ab instanceof SharedArrayBuffer) return;
    if (!this.channel) {
      this.channel = new MessageChannel();
      this.channel.port1.unref();
      this.channel.port2.unref();
    }
    const bytes = ab.byteLength;
    try {
      this.channel.port1.postMessage(null, [ab]);
    } catch {
      return;
    }
    this.parked += bytes;
    if (this.parked >= BATCH_BYTES) this.flush();
  }

  /** Frees every chunk parked so far. */
  flush(): void {
    if (!this.channel) return;
    this.channel.port1.close();
    this.channel.port2.close();
    this.channel = undefined;
    this.parked = 0;
  }
}
