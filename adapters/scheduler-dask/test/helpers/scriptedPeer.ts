import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { FrameReader, decodeMessage, encodeFrames, encodeMessage } from '../../src/index.js';

/**
 * Small TCP peers on 127.0.0.1 that behave like a Dask scheduler, or like something else: for
 * the failure paths a real scheduler cannot be made to take on demand.
 */

/** What a scheduler with lz4 on Python 3.10 would send; a client must still answer `compression: null`. */
export const SCHEDULER_HANDSHAKE = { compression: 'lz4', python: [3, 10, 12], 'pickle-protocol': 5 };

export interface Peer {
  address: string;
  /** Every message received, decoded. */
  received: unknown[];
  /** Raw bytes received. */
  bytes: Buffer[];
  /** Drops every open connection (the peer keeps listening). */
  dropConnections(): void;
  close(): Promise<void>;
}

/** A TCP peer; `onConnect` decides what it says first; `onMessage` answers decoded messages. */
export async function peer(
  onConnect: (s: Socket) => void,
  onMessage: (s: Socket, msg: unknown, index: number) => void = () => undefined,
): Promise<Peer> {
  const received: unknown[] = [];
  const bytes: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    const reader = new FrameReader();
    let index = 0;
    s.on('data', (d) => {
      bytes.push(d);
      for (const frames of reader.push(d)) {
        const msg = decodeMessage(frames[0]!);
        received.push(msg);
        onMessage(s, msg, index++);
      }
    });
    s.on('error', () => undefined);
    onConnect(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    address: `tcp://127.0.0.1:${port}`,
    received,
    bytes,
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export const send = (s: Socket, msg: unknown): boolean => s.write(encodeFrames([encodeMessage(msg)]));

/** A scheduler-like peer: handshake first, then `answer(msg)` for each request after the client's handshake. */
export const daskLike = (answer: (s: Socket, msg: Record<string, unknown>) => void): Promise<Peer> =>
  peer(
    (s) => send(s, SCHEDULER_HANDSHAKE),
    (s, msg, i) => {
      if (i > 0) answer(s, msg as Record<string, unknown>);
    },
  );
