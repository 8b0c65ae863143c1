import { EbbtideError } from '@ebbtide/core';

/** Largest record accepted; a bigger length is a broken stream, not a real event. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/**
 * Splits a RecordIO byte stream (`<decimal length in bytes>\n<record>` repeated) into records.
 * Chunk boundaries mean nothing: a length, a record or a multi-byte UTF-8 character may be split
 * anywhere, so bytes are buffered and counted, and a record is decoded only once it is whole.
 * Large records are gathered as a list of chunks and joined once, not re-copied per chunk.
 */
export class RecordIOParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the record being read, or undefined while reading a length line. */
  private need: number | undefined;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  /**
   * Feeds bytes; returns every record completed by them, in order.
   * @throws EbbtideError `BACKEND_API` on a malformed length line or an oversized record.
   */
  push(chunk: Uint8Array): string[] {
    if (chunk.length) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.buffered += chunk.length;
    }
    const out: string[] = [];
    for (;;) {
      if (this.need === undefined) {
        const nl = this.indexOfNewline();
        if (nl < 0) {
          if (this.buffered > 20) throw this.broken(`a length line longer than 20 bytes without a newline`);
          return out;
        }
        const line = this.take(nl + 1).subarray(0, nl).toString('ascii').trim();
        if (!/^\d+$/.test(line)) throw this.broken(`expected a decimal record length, got ${JSON.stringify(line.slice(0, 40))}`);
        const n = Number(line);
        if (n > MAX_RECORD_BYTES) throw this.broken(`record of ${n} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`);
        this.need = n;
      }
      if (this.buffered < this.need) return out;
      const body = this.take(this.need);
      this.need = undefined;
      if (body.length === 0) continue; // Mesos never sends empty records; tolerate them.
      try {
        out.push(this.decoder.decode(body));
      } catch {
        throw this.broken('a record is not valid UTF-8');
      }
    }
  }

  /** Bytes held for an incomplete record or length (0 at a record boundary). */
  get pending(): number {
    return this.buffered;
  }

  private broken(what: string): EbbtideError {
    return new EbbtideError('BACKEND_API', `Mesos subscription stream is not RecordIO: ${what}`, { data: { retryable: true } });
  }

  private indexOfNewline(): number {
    let offset = 0;
    for (const c of this.chunks) {
      const i = c.indexOf(0x0a);
      if (i >= 0) return offset + i;
      offset += c.length;
    }
    return -1;
  }

  /** Removes and returns the first `n` buffered bytes. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    let result: Buffer;
    if (first.length >= n) {
      result = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let left = n;
      while (left > 0) {
        const c = this.chunks[0]!;
        if (c.length <= left) {
          parts.push(c);
          this.chunks.shift();
          left -= c.length;
        } else {
          parts.push(c.subarray(0, left));
          this.chunks[0] = c.subarray(left);
          left = 0;
        }
      }
      result = Buffer.concat(parts, n);
    }
    this.buffered -= n;
    return result;
  }
}
