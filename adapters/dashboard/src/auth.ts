import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './config.js';
import { HttpError } from './json.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The token a request carries: `Authorization: Bearer …`, else `?access_token=…` (RFC 6750 §2.1, §2.3). */
function presented(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(.+?)\s*$/i.exec(header);
    return m ? m[1] : '';
  }
  return url.searchParams.get('access_token') ?? undefined;
}

/**
 * Who may talk to the server.
 *
 * - With a token: every request must carry it (compared in constant time); 401 otherwise.
 * - Without one (the server is then bound to loopback): the `Host` header must name this
 *   machine, so a web page elsewhere cannot reach the API through DNS rebinding.
 *
 * @throws HttpError 401 or 403.
 */
export function authorize(req: IncomingMessage, url: URL, token: string): void {
  if (token) {
    const given = presented(req, url);
    if (given === undefined || !timingSafeEqual(digest(given), digest(token))) {
      throw new HttpError(401, 'UNAUTHORIZED', given === undefined ? 'this dashboard needs its token (dashboard.token) as a bearer token' : 'wrong token', {
        'www-authenticate': 'Bearer realm="ebbtide"',
      });
    }
    return;
  }
  const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
  if (!isLoopbackHost(host)) {
    throw new HttpError(403, 'FORBIDDEN', `host ${JSON.stringify(host)} is not this machine; without dashboard.token only loopback names are served`);
  }
}
