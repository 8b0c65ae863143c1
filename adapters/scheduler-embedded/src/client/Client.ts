import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { EbbtideError } from '@ebbtide/core';
import { parseAddress } from '../protocol/address.js';
import { Connection, RemoteError } from '../protocol/Connection.js';
import { OPS } from '../protocol/messages.js';
import { resourcesProblem } from '../protocol/resources.js';
import { parseTaskRef } from '../taskRef.js';
import { TaskError } from './TaskError.js';

/** Options of `Client.connect`. */
export interface ConnectOptions {
  /** The scheduler's `scheduler.embedded.token`; default: the `EBBTIDE_TOKEN` environment variable. */
  token?: string;
}

/** Options of `Client.submit`. */
export interface SubmitOptions {
  /** The task's key; default `{prefix}-{random hex}`. Submitting an existing key reuses it. */
  key?: string;
  /** The task prefix durations are learned for; default: core's `keySplit(key)`. */
  prefix?: string;
  /**
   * What one run needs, like Dask's `client.submit(f, resources={'GPU': 1})`: the task runs only
   * on a worker offering them (`ebbtide-worker --resources GPU=1`, or a pool's `resources`).
   */
  resources?: Readonly<Record<string, number>>;
}

/**
 * A client of the embedded scheduler: submit tasks, gather their results, release them.
 * Results are relayed by the scheduler from the worker that holds them.
 *
 * @example
 * ```ts
 * const client = await Client.connect(adapter.address!);
 * const key = await client.submit(builtinTask('inc'), [41]);
 * console.log(await client.gather([key])); // [42]
 * await client.release([key]);
 * await client.close();
 * ```
 */
export class Client {
  private ping?: NodeJS.Timeout;

  private constructor(
    private readonly conn: Connection,
    /** The scheduler's address. */
    readonly address: string,
  ) {}

  /**
   * Connects to the scheduler at `address` (`tcp://HOST:PORT`).
   *
   * @throws EbbtideError `SCHEDULER_UNREACHABLE` if nothing answers there; `INPUT_INVALID` for a
   *   malformed address; `CONFIG_INVALID` if the scheduler wants a token and this one is missing
   *   or wrong.
   */
  static async connect(address: string, options: ConnectOptions = {}): Promise<Client> {
    const { host, port } = parseAddress(address);
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e) =>
        reject(new EbbtideError('SCHEDULER_UNREACHABLE', `cannot connect to the scheduler at ${address}: ${e.message}`, { hint: 'is the scheduler running, and is this its address?' })),
      );
    });
    const conn = new Connection(socket, { accept: OPS.toClient });
    const token = options.token ?? process.env.EBBTIDE_TOKEN;
    const client = new Client(conn, address);
    const reply = await client.call<{ pingInterval?: unknown }>({ op: 'register-client', ...(token ? { token } : {}) }).catch(async (e: unknown) => {
      conn.destroy('registration refused');
      await conn.closed;
      throw e;
    });
    // The scheduler closes connections that stay quiet past its idle timeout; it says how often
    // to ping. Unref'd: a client must never keep its process alive by itself.
    const every = reply.pingInterval;
    if (typeof every === 'number' && every > 0) {
      client.ping = setInterval(() => conn.send({ op: 'ping' }), every);
      client.ping.unref();
    }
    conn.onClose = () => clearInterval(client.ping);
    return client;
  }

  /**
   * Submits `fn(...args)`; `fn` is `module#export` (module: absolute path, `file:` URL or package
   * name). Resolves with the key once the scheduler has queued it.
   *
   * @throws EbbtideError `INPUT_INVALID` for a malformed `fn` or arguments that are not JSON.
   */
  async submit(fn: string, args: readonly unknown[] = [], options: SubmitOptions = {}): Promise<string> {
    const ref = parseTaskRef(fn);
    if (typeof ref === 'string') throw new EbbtideError('INPUT_INVALID', ref, { hint: 'write it as /abs/path/tasks.js#name, file:///abs/path/tasks.js#name or package#name' });
    const prefix = options.prefix;
    const key = options.key ?? `${prefix ?? ref.exportName}-${randomUUID().replaceAll('-', '')}`;
    if (JSON.stringify(args) === undefined) throw new EbbtideError('INPUT_INVALID', `arguments of ${fn} are not JSON-serialisable`);
    const resources = options.resources;
    if (resources !== undefined) {
      const problem = resourcesProblem(resources);
      if (problem) throw new EbbtideError('INPUT_INVALID', `resources of ${fn}: ${problem}`, { hint: "write them as { GPU: 1 }" });
    }
    const reply = await this.call<{ key: string }>({
      op: 'submit',
      key,
      fn,
      args: [...args],
      ...(prefix !== undefined ? { prefix } : {}),
      ...(resources !== undefined && Object.keys(resources).length > 0 ? { resources: { ...resources } } : {}),
    });
    return reply.key;
  }

  /**
   * The results of `keys`, in order, once they are computed. A result lost with its worker is
   * recomputed first.
   *
   * @throws TaskError if a task failed; EbbtideError `INPUT_INVALID` for an unknown or released
   *   key, `SCHEDULER_UNREACHABLE` if the connection is lost.
   */
  async gather(keys: readonly string[]): Promise<unknown[]> {
    const reply = await this.call<{ values: unknown[] }>({ op: 'gather', keys: [...keys] });
    return reply.values;
  }

  /** Says this client no longer needs `keys`; results nobody wants are dropped from the workers. */
  async release(keys: readonly string[]): Promise<void> {
    await this.call({ op: 'release', keys: [...keys] });
  }

  /** Closes the connection; the scheduler releases every key this client still wanted. */
  async close(): Promise<void> {
    clearInterval(this.ping);
    this.conn.end('client closed');
    await this.conn.closed;
  }

  private async call<R extends object>(body: Parameters<Connection['request']>[0]): Promise<R> {
    try {
      return await this.conn.request<R>(body);
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      if (e.wire.kind === 'task') throw new TaskError(e.wire);
      if (e.wire.kind === 'unauthorized') {
        throw new EbbtideError('CONFIG_INVALID', `scheduler at ${this.address} refused this client: ${e.message}`, {
          key: 'scheduler.embedded.token',
          hint: "set EBBTIDE_TOKEN (or Client.connect's token option) to the scheduler's scheduler.embedded.token",
        });
      }
      const code = e.wire.kind === 'input' ? 'INPUT_INVALID' : e.wire.kind === 'unavailable' ? 'SCHEDULER_UNREACHABLE' : 'SCHEDULER_PROTOCOL';
      throw new EbbtideError(code, `scheduler at ${this.address}: ${e.message}`, {
        ...(e.wire.key ? { data: { key: e.wire.key } } : {}),
      });
    }
  }
}
