import type { IncomingMessage, ServerResponse } from 'node:http';

/** An HTTP error with the body every endpoint uses: `{ "error": { "code", "message" } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** JSON has no infinity: `maximum: inf` is written as the config writes it, `"inf"`. */
function replacer(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? null : v > 0 ? 'inf' : '-inf';
  return v;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = toJson(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  sendJson(res, e.status, { error: { code: e.code, message: e.message } }, e.headers);
}

/** Largest request body read (the control requests are a few bytes). */
const MAX_BODY = 64 * 1024;

/**
 * The request's JSON body. Only `application/json` is read: a cross-site HTML form cannot send
 * that without the browser asking first (CORS), so a page elsewhere cannot scale the cluster.
 *
 * @throws HttpError 415 for another content type, 413 past 64 KiB, 400 for bad JSON.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'INPUT_INVALID', `expected a JSON body (content-type: application/json), got ${type ? JSON.stringify(type) : 'none'}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'INPUT_INVALID', `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text.trim() ? (JSON.parse(text) as unknown) : {};
  } catch (e) {
    throw new HttpError(400, 'INPUT_INVALID', `request body is not JSON: ${(e as Error).message}`);
  }
}
