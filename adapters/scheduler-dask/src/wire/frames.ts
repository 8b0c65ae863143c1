/**
 * Dask's TCP framing (`distributed/comm/tcp.py`): every message is
 *
 * ```
 * u64 total          bytes after this field: 8 + 8 × nframes + Σ frame lengths
 * u64 nframes
 * u64 length × nframes
 * frames...          frame 0 is msgpack; later frames are out-of-band payloads
 * ```
 *
 * Python packs with `struct` format `"Q"` (native order); every platform Dask runs on is
 * little-endian, so we read and write little-endian.
 */

/** The largest message we accept. Beyond it, the peer is almost certainly not speaking Dask. */
export const MAX_MESSAGE_BYTES = 2 ** 31;

/** Frames are limited so a garbage length prefix cannot make us allocate a huge table. */
const MAX_FRAMES = 1_000_000;

/** Encodes frames into one framed message. */
export function encodeFrames(frames: readonly Uint8Array[]): Buffer {
  const headerBytes = 8 + 8 + 8 * frames.length;
  let payload = 0;
  for (const f of frames) payload += f.byteLength;
  const out = Buffer.allocUnsafe(headerBytes + payload);
  out.writeBigUInt64LE(BigInt(headerBytes - 8 + payload), 0);
  out.writeBigUInt64LE(BigInt(frames.length), 8);
  let pos = 16;
  for (const f of frames) {
    out.writeBigUInt64LE(BigInt(f.byteLength), pos);
    pos += 8;
  }
  for (const f of frames) {
    out.set(f, pos);
    pos += f.byteLength;
  }
  return out;
}

/** Thrown by {@link FrameReader} when the bytes cannot be Dask framing. */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

/**
 * Reassembles framed messages from a byte stream that arrives in arbitrary chunks.
 *
 * @example
 * ```ts
 * const reader = new FrameReader();
 * socket.on('data', (chunk) => { for (const frames of reader.push(chunk)) handle(frames); });
 * ```
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Total bytes of the message being read, once its length field has arrived. */
  private expected = -1;

  /** Bytes held waiting for the rest of a message. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Adds bytes; returns every message they complete, each as its list of frames.
   * @throws FramingError when a length field is impossible for Dask framing.
   */
  push(chunk: Uint8Array): Buffer[][] {
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.buffered += chunk.byteLength;
    const messages: Buffer[][] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 8) break;
        const total = this.peekU64(0);
        if (total < 8 || total > MAX_MESSAGE_BYTES) {
          throw new FramingError(`message length field is ${total}, expected 8..${MAX_MESSAGE_BYTES}`);
        }
        this.expected = 8 + total;
      }
      if (this.buffered < this.expected) break;
      const all = this.take(this.expected);
      this.expected = -1;
      messages.push(splitFrames(all.subarray(8)));
    }
    return messages;
  }

  private peekU64(offset: number): number {
    const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [head];
    return Number(head.readBigUInt64LE(offset));
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const rest = all.subarray(n);
    this.chunks = rest.byteLength > 0 ? [rest] : [];
    this.buffered = rest.byteLength;
    return all.subarray(0, n);
  }
}

/**
 * Splits the body of one message (everything after the total-length field) into frames.
 * @throws FramingError when the frame table does not add up to the body length.
 */
export function splitFrames(body: Buffer): Buffer[] {
  if (body.byteLength < 8) throw new FramingError(`message body of ${body.byteLength} bytes has no frame count`);
  const n = Number(body.readBigUInt64LE(0));
  if (n < 1 || n > MAX_FRAMES || 8 + 8 * n > body.byteLength) {
    throw new FramingError(`frame count ${n} does not fit a message body of ${body.byteLength} bytes`);
  }
  const lengths: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const len = Number(body.readBigUInt64LE(8 + 8 * i));
    lengths.push(len);
    sum += len;
  }
  const start = 8 + 8 * n;
  if (start + sum !== body.byteLength) {
    throw new FramingError(`frame lengths add up to ${sum} bytes, but the message carries ${body.byteLength - start}`);
  }
  const frames: Buffer[] = [];
  let pos = start;
  for (const len of lengths) {
    frames.push(body.subarray(pos, pos + len));
    pos += len;
  }
  return frames;
}
