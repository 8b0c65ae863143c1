import { EbbtideError } from '@ebbtide/core/sdk';
import type { RawMessage } from './frames.js';
import { type Resources, resourcesProblem } from './resources.js';

/**
 * Every message of the embedded scheduler's protocol. Requests carry an `id`; the peer answers
 * with a `reply` of the same `id`. The other messages are one-way. README.md lists them all.
 */

/** An error as it travels on the wire (a task's exception, or why a request was refused). */
export interface WireError {
  /**
   * `task`: the task itself failed; `input`: the request was wrong; `unavailable`: the scheduler
   * is closing; `unauthorized`: a registration without the scheduler's token (or a wrong one);
   * `internal`: anything else.
   */
  kind: 'task' | 'input' | 'unavailable' | 'unauthorized' | 'internal';
  message: string;
  /** Class name of the original error (`TypeError`, ...). */
  name?: string;
  stack?: string;
  key?: string;
  worker?: string;
}

// ---- worker -> scheduler
export interface RegisterWorkerMessage { op: 'register-worker'; id: number; name: string; nthreads: number; memoryLimit: number; labels: Record<string, string>; pid: number; token?: string; /** What the worker offers (`--resources GPU=1`). */ resources?: Resources }
export interface HeartbeatMessage { op: 'heartbeat'; nbytes: number; executing: Array<{ key: string; run: number; elapsed: number }> }
export interface TaskFinishedMessage { op: 'task-finished'; key: string; run: number; nbytes: number; duration: number }
export interface TaskErredMessage { op: 'task-erred'; key: string; run: number; duration: number; error: WireError }
// ---- client -> scheduler
export interface RegisterClientMessage { op: 'register-client'; id: number; token?: string }
/** Keeps an otherwise quiet client's connection from being closed as idle. */
export interface PingMessage { op: 'ping' }
/** `resources`: what one run needs (Dask's `resources={'GPU': 1}`); only a worker offering it runs the task. */
export interface SubmitMessage { op: 'submit'; id: number; key: string; fn: string; args: unknown[]; prefix?: string; resources?: Resources }
export interface GatherMessage { op: 'gather'; id: number; keys: string[] }
export interface ReleaseMessage { op: 'release'; id: number; keys: string[] }
// ---- scheduler -> worker
export interface ComputeMessage { op: 'compute'; key: string; run: number; fn: string; args: unknown[] }
export interface GetDataMessage { op: 'get-data'; id: number; keys: string[] }
/** `values[i]` is the result of `keys[i]`. Replies to `get-data` use the same alignment. */
export interface PutDataMessage { op: 'put-data'; id: number; keys: string[]; values: unknown[] }
export interface FreeMessage { op: 'free'; keys: string[] }
export interface CloseMessage { op: 'close'; reason: string }
// ---- either way
export type ReplyMessage = { op: 'reply'; id: number; ok: true; [field: string]: unknown } | { op: 'reply'; id: number; ok: false; error: WireError };

export type Message =
  | RegisterWorkerMessage
  | HeartbeatMessage
  | TaskFinishedMessage
  | TaskErredMessage
  | RegisterClientMessage
  | PingMessage
  | SubmitMessage
  | GatherMessage
  | ReleaseMessage
  | ComputeMessage
  | GetDataMessage
  | PutDataMessage
  | FreeMessage
  | CloseMessage
  | ReplyMessage;

export type Op = Message['op'];

/** Messages that expect a `reply`, without the `id` the connection assigns. */
export type RequestBody<M extends Message = Message> = M extends { id: number } ? (M extends ReplyMessage ? never : Omit<M, 'id'>) : never;

type Check = (v: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isName: Check = (v) => typeof v === 'string' && v.length > 0;
const isCount: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const isPositive: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 1;
const isSeconds: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isBoolean: Check = (v) => typeof v === 'boolean';
const isArray: Check = (v) => Array.isArray(v);
const isKeys: Check = (v) => Array.isArray(v) && v.every(isName);
const isObject: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap: Check = (v) => isObject(v) && Object.values(v as object).every(isString);
const isWireError: Check = (v) => isObject(v) && isString((v as WireError).message);
const isExecuting: Check = (v) =>
  Array.isArray(v) && v.every((e) => isObject(e) && isName((e as { key: unknown }).key) && isCount((e as { run: unknown }).run) && isSeconds((e as { elapsed: unknown }).elapsed));
const isResources: Check = (v) => resourcesProblem(v) === undefined;
const optional = (c: Check): Check => (v) => v === undefined || c(v);

/** Required fields of each op and how to check them; extra fields are ignored. */
const SHAPES: Record<Op, Record<string, Check>> = {
  'register-worker': { id: isCount, name: isName, nthreads: isPositive, memoryLimit: isCount, labels: isStringMap, pid: isCount, token: optional(isString), resources: optional(isResources) },
  heartbeat: { nbytes: isCount, executing: isExecuting },
  'task-finished': { key: isName, run: isCount, nbytes: isCount, duration: isSeconds },
  'task-erred': { key: isName, run: isCount, duration: isSeconds, error: isWireError },
  'register-client': { id: isCount, token: optional(isString) },
  ping: {},
  submit: { id: isCount, key: isName, fn: isName, args: isArray, prefix: optional(isName), resources: optional(isResources) },
  gather: { id: isCount, keys: isKeys },
  release: { id: isCount, keys: isKeys },
  compute: { key: isName, run: isCount, fn: isName, args: isArray },
  'get-data': { id: isCount, keys: isKeys },
  'put-data': { id: isCount, keys: isKeys, values: isArray },
  free: { keys: isKeys },
  close: { reason: isString },
  reply: { id: isCount, ok: isBoolean, error: optional(isWireError) },
};

/** The ops a peer may send at each stage of a connection. */
export const OPS = {
  /** First message to the scheduler decides what the connection is. */
  toSchedulerFirst: new Set<Op>(['register-worker', 'register-client']),
  fromWorker: new Set<Op>(['heartbeat', 'task-finished', 'task-erred', 'reply']),
  fromClient: new Set<Op>(['submit', 'gather', 'release', 'ping']),
  toWorker: new Set<Op>(['reply', 'compute', 'get-data', 'put-data', 'free', 'close']),
  toClient: new Set<Op>(['reply']),
} as const;

/**
 * Checks that a decoded frame is a message this end accepts now: a known op, allowed at this
 * stage, with well-typed fields.
 *
 * @throws EbbtideError `SCHEDULER_PROTOCOL` naming the op and the field that is wrong.
 */
export function checkMessage(raw: RawMessage, allowed: ReadonlySet<Op>): Message {
  const shape = (SHAPES as Record<string, Record<string, Check> | undefined>)[raw.op];
  if (!shape) throw new EbbtideError('SCHEDULER_PROTOCOL', `unknown op "${raw.op}"; expected one of ${[...allowed].join(', ')}`);
  if (!allowed.has(raw.op as Op)) {
    throw new EbbtideError('SCHEDULER_PROTOCOL', `op "${raw.op}" is not allowed here; expected one of ${[...allowed].join(', ')}`);
  }
  for (const [field, check] of Object.entries(shape)) {
    if (!check(raw[field])) {
      throw new EbbtideError('SCHEDULER_PROTOCOL', `op "${raw.op}": field "${field}" is missing or malformed (got ${preview(raw[field])})`);
    }
  }
  if (raw.op === 'put-data' && (raw.keys as unknown[]).length !== (raw.values as unknown[]).length) {
    throw new EbbtideError('SCHEDULER_PROTOCOL', 'op "put-data": "keys" and "values" must have the same length');
  }
  return raw as unknown as Message;
}

function preview(v: unknown): string {
  const text = JSON.stringify(v) ?? 'undefined';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A thrown value as a `WireError`. */
export function toWireError(e: unknown, kind: WireError['kind']): WireError {
  if (e instanceof Error) {
    return { kind, message: e.message, name: e.name, ...(e.stack ? { stack: e.stack } : {}) };
  }
  return { kind, message: String(e) };
}
