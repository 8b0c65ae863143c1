import { EbbtideError } from '@ebbtide/core/sdk';
import type { ChunkReleaser } from './ChunkReleaser.js';

/** Bytes of the length prefix in front of every frame body (u32, big-endian). */
export const FRAME_HEADER_BYTES = 4;

/** Largest frame body accepted by default: 64 MiB, so one bad length cannot exhaust memory. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

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
 * Bodies longer than this are collected in a growable buffer of their own (see `FrameDecoder`);
 * shorter ones stay as the chunks they arrived in.
 */
export const LARGE_BODY_BYTES = 64 * 1024;

/** An ES2024 resizable `ArrayBuffer` (Node 20 has them; the repository's TypeScript lib is ES2023). */
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
const ResizableArrayBuffer = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

/**
 * Reassembles frames from a byte stream, one message at a time.
 *
 * Memory: nothing is allocated for a length a peer merely declares, so a peer that announces a
 * large frame and sends little of it holds only what it sent (`buffered` reports it, for the
 * caller's caps). A small body is kept as the chunks it arrived in and joined once complete. A
 * large body is copied, as it arrives, into a resizable `ArrayBuffer`: V8 maps those pages
 * directly and gives them back to the system on `resize(0)`, which happens the moment the body is
 * decoded or the stream is dropped. Held as socket chunks instead, hundreds of megabytes of an
 * abandoned frame stay in the process (the C allocator keeps freed chunks, and only a later
 * garbage collection frees them at all). Given a `ChunkReleaser` (the caller gives up the chunks
 * it writes), the chunks copied into a large body are freed at once too.
 */
export class FrameDecoder {
  /** Received bytes not yet read as a header or copied into a large body. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Body length of the frame being read, or -1 while waiting for a header. */
  private bodyLength = -1;
  /** The large body being collected, and how much of it has arrived. */
  private large?: ResizableArrayBuffer;
  private largeFilled = 0;

  constructor(
    private maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
    private readonly releaser?: ChunkReleaser,
  ) {}

  /** Bytes received and not yet returned as messages (a partial frame, or a partial header). */
  get buffered(): number {
    return this.chunkBytes + this.largeFilled;
  }

  /** Changes the frame limit for frames whose header has not been read yet. */
  setMaxFrameBytes(n: number): void {
    this.maxFrameBytes = n;
  }

  /** Drops everything buffered (the connection is closing) and gives its memory back at once. */
  clear(): void {
    this.chunks = [];
    this.chunkBytes = 0;
    this.bodyLength = -1;
    this.dropLarge();
  }

  /**
   * Feeds bytes and returns every message completed by them, in order.
   *
   * @throws EbbtideError `SCHEDULER_PROTOCOL` for a length of 0 or above the limit, a body that is
   *   not JSON, or a body without `op`. The stream cannot be resynchronised after that.
   */
  push(chunk: Buffer): RawMessage[] {
    this.write(chunk);
    const out: RawMessage[] = [];
    for (let m = this.next(); m; m = this.next()) out.push(m);
    return out;
  }

  /** Feeds bytes without decoding them; `next()` then returns the messages one at a time. */
  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    // A large body in progress takes its bytes now, so the socket's chunks are not kept.
    if (this.large) this.fillLarge();
  }

  /**
   * The next complete message, or undefined until more bytes arrive. One at a time, so a caller
   * can change the limit between two frames (after a registration) before the next header is read.
   *
   * @throws EbbtideError `SCHEDULER_PROTOCOL` as `push`.
   */
  next(): RawMessage | undefined {
    if (this.bodyLength < 0) {
      if (this.chunkBytes < FRAME_HEADER_BYTES) return this.compactTail();
      const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
      if (length === 0 || length > this.maxFrameBytes) {
        throw protocolError(`frame length ${length} is outside 1..${this.maxFrameBytes}`);
      }
      this.bodyLength = length;
      if (length > LARGE_BODY_BYTES) {
        // Reserves address space only; pages are committed as bytes arrive.
        this.large = new ResizableArrayBuffer(0, { maxByteLength: length });
        this.largeFilled = 0;
      }
    }
    let body: Buffer;
    if (this.large) {
      this.fillLarge();
      if (this.largeFilled < this.bodyLength) return undefined;
      // Parsed before the memory goes: toString copies the bytes into a string first.
      body = Buffer.from(this.large, 0, this.bodyLength);
    } else {
      if (this.chunkBytes < this.bodyLength) return this.compactTail();
      body = this.take(this.bodyLength);
    }
    this.bodyLength = -1;
    try {
      return decodeBody(body);
    } finally {
      this.dropLarge();
    }
  }

  /** Copies pending chunks into the large body, up to its length. */
  private fillLarge(): void {
    const large = this.large!;
    const want = Math.min(this.bodyLength - this.largeFilled, this.chunkBytes);
    if (want <= 0) return;
    large.resize(this.largeFilled + want);
    const into = new Uint8Array(large);
    // Chunk by chunk, without joining them first.
    for (let left = want; left > 0; ) {
      const c = this.chunks[0]!;
      const used = Math.min(c.length, left);
      c.copy(into, this.largeFilled, 0, used);
      this.largeFilled += used;
      left -= used;
      if (used === c.length) {
        this.chunks.shift();
        this.releaser?.release(c);
      } else this.chunks[0] = c.subarray(used);
    }
    this.chunkBytes -= want;
  }

  private dropLarge(): void {
    if (!this.large) return;
    this.large.resize(0);
    this.large = undefined;
    this.largeFilled = 0;
    this.releaser?.flush();
  }

  /**
   * A few bytes left over from a large chunk would keep the whole chunk's memory alive while
   * `buffered` counts only the few: copy them out so the accounting matches what is held.
   */
  private compactTail(): undefined {
    const last = this.chunks[0];
    if (this.chunks.length === 1 && last && last.buffer.byteLength > 16 * 1024 && 2 * last.length < last.buffer.byteLength) this.chunks[0] = Buffer.from(last);
    return undefined;
  }

  /** Removes and returns the first `n` pending bytes. */
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
    this.chunkBytes -= n;
    return result;
  }
}
