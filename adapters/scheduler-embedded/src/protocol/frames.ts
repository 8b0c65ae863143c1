import { EbbtideError } from '@ebbtide/core';

/** Bytes of the length prefix in front of every frame body (u32, big-endian). */
export const FRAME_HEADER_BYTES = 4;

/** Largest frame body accepted by default: 256 MiB, so one bad length cannot exhaust memory. */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** A decoded frame body: a JSON object with a string `op`. Fields are checked by `checkMessage`. */
export interface RawMessage {
  op: string;
  [field: string]: unknown;
}

function protocolError(message: string): EbbtideError {
  return new EbbtideError('SCHEDULER_PROTOCOL', message, {
    hint: 'frames are a u32 big-endian body length followed by a UTF-8 JSON object with a string "op"',
  });
}

/**
 * One frame: the body length as u32 big-endian, then the UTF-8 JSON of `message`.
 *
 * @throws EbbtideError `SCHEDULER_PROTOCOL` when the body is larger than `maxFrameBytes`.
 */
export function encodeFrame(message: object, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  const text = JSON.stringify(message);
  const bodyLength = Buffer.byteLength(text, 'utf8');
  if (bodyLength > maxFrameBytes) {
    throw protocolError(`frame of ${bodyLength} bytes exceeds the limit of ${maxFrameBytes} bytes (op ${(message as RawMessage).op})`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLength);
  frame.writeUInt32BE(bodyLength, 0);
  frame.write(text, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

/** Parses one frame body: a JSON object whose `op` is a non-empty string. */
export function decodeBody(body: Buffer): RawMessage {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw protocolError(`frame body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw protocolError(`frame body must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const op = (value as { op?: unknown }).op;
  if (typeof op !== 'string' || op.length === 0) throw protocolError('frame body has no string "op"');
  return value as RawMessage;
}

/**
 * Reassembles frames from a byte stream. Chunks are kept in a list and joined only when a whole
 * header or body is available, so a large frame arriving in many chunks is copied once.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being read, or -1 while waiting for a header. */
  private bodyLength = -1;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /**
   * Feeds bytes and returns every message completed by them, in order.
   *
   * @throws EbbtideError `SCHEDULER_PROTOCOL` for a length of 0 or above the limit, a body that is
   *   not JSON, or a body without `op`. The stream cannot be resynchronised after that.
   */
  push(chunk: Buffer): RawMessage[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: RawMessage[] = [];
    for (;;) {
      if (this.bodyLength < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length === 0 || length > this.maxFrameBytes) {
          throw protocolError(`frame length ${length} is outside 1..${this.maxFrameBytes}`);
        }
        this.bodyLength = length;
      }
      if (this.buffered < this.bodyLength) break;
      const body = this.take(this.bodyLength);
      this.bodyLength = -1;
      out.push(decodeBody(body));
    }
    return out;
  }

  /** Removes and returns the first `n` buffered bytes. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let result: Buffer;
    if (first.length >= n) {
      result = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      result = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0]!;
        const used = Math.min(c.length, n - filled);
        c.copy(result, filled, 0, used);
        filled += used;
        if (used === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(used);
      }
    }
    this.buffered -= n;
    return result;
  }
}
