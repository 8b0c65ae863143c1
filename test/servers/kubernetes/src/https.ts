import { request } from 'node:https';

export interface HttpsTarget {
  /** CA to trust; without it the certificate is not checked (self-signed component ports). */
  ca?: Buffer;
  token?: string;
}

/** One HTTPS request to a loopback server: status and body text. */
export function httpsGet(url: string, t: HttpsTarget, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...(t.ca ? { ca: t.ca } : { rejectUnauthorized: false }), headers: t.token ? { authorization: `Bearer ${t.token}` } : {}, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
