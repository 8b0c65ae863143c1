/** What a failed API call means for the backend. */
export type ApiErrorKind =
  /** 429, 5xx, timeouts, connection errors: back off (honouring Retry-After) and retry. */
  | 'retry'
  /** 403 "exceeded quota": the namespace is full; capacity-limited, retried later by the core. */
  | 'capacity'
  /** 400 / 422: what we sent is invalid; a configuration error, reported once. */
  | 'invalid'
  /** 401 / other 403s: credentials or RBAC. */
  | 'forbidden'
  | 'notFound'
  | 'conflict'
  | 'gone'
  | 'other';

export interface ClassifiedError {
  kind: ApiErrorKind;
  status?: number;
  /** The Status reason (`AlreadyExists`, `Forbidden`, ...). */
  reason?: string;
  /** The API's own message when it sent one. */
  message: string;
  /** Milliseconds from Retry-After. */
  retryAfterMs?: number;
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : String(v);
  }
  return undefined;
}

function statusBody(body: unknown): { reason?: string; message?: string } {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return { message: b as string };
    }
  }
  if (b && typeof b === 'object') {
    const s = b as { reason?: unknown; message?: unknown };
    return { ...(typeof s.reason === 'string' ? { reason: s.reason } : {}), ...(typeof s.message === 'string' ? { message: s.message } : {}) };
  }
  return {};
}

/** Classifies an error thrown by `@kubernetes/client-node` (ApiException or a network error). */
export function classify(e: unknown): ClassifiedError {
  const err = e as { code?: unknown; statusCode?: unknown; body?: unknown; headers?: unknown; message?: unknown; name?: unknown; type?: unknown };
  const status = typeof err?.code === 'number' ? err.code : typeof err?.statusCode === 'number' ? err.statusCode : undefined;
  if (status === undefined) {
    // node-fetch's FetchError (connection refused/reset, socket hang up), AbortError (our
    // request timeout): transient. Anything else is a bug, not something to retry.
    const name = String(err?.name ?? '');
    const sysCode = String((e as { code?: unknown; errno?: unknown })?.code ?? (e as { errno?: unknown })?.errno ?? '');
    const transient = name === 'FetchError' || name === 'AbortError' || /^E(CONN|PIPE|TIMEDOUT|AI_AGAIN|HOSTUNREACH|NETUNREACH)/.test(sysCode) || /timed out|socket hang up|ECONNRESET|ECONNREFUSED|premature close/i.test(String(err?.message ?? ''));
    return { kind: transient ? 'retry' : 'other', message: String(err?.message ?? e) };
  }
  const s = statusBody(err.body);
  const message = s.message ?? `HTTP ${status}`;
  const base = { status, message, ...(s.reason ? { reason: s.reason } : {}) };
  if (status === 429) {
    const ra = Number(header(err.headers, 'retry-after'));
    return { ...base, kind: 'retry', ...(Number.isFinite(ra) && ra >= 0 ? { retryAfterMs: ra * 1000 } : {}) };
  }
  if (status >= 500) return { ...base, kind: 'retry' };
  if (status === 403 && /exceeded quota/i.test(message)) return { ...base, kind: 'capacity' };
  if (status === 401 || status === 403) return { ...base, kind: 'forbidden' };
  if (status === 404) return { ...base, kind: 'notFound' };
  if (status === 409) return { ...base, kind: 'conflict' };
  if (status === 410) return { ...base, kind: 'gone' };
  if (status === 400 || status === 422) return { ...base, kind: 'invalid' };
  return { ...base, kind: 'other' };
}
