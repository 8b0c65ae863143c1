import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths of the key material one control plane uses (all inside `dir/pki`). */
export interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** Service-account token signing key pair. */
  saKey: string;
  saPub: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A throwaway CA, a serving certificate for 127.0.0.1/localhost signed by it (used by the
 * apiserver and by the fault proxy, so one CA in a kubeconfig trusts both) and the
 * service-account key pair. Kept when already there, so a restarted control plane on the same
 * folder keeps its identity.
 */
export function ensurePki(dir: string): Pki {
  const d = join(dir, 'pki');
  mkdirSync(d, { recursive: true });
  const p: Pki = {
    caCert: join(d, 'ca.crt'),
    caKey: join(d, 'ca.key'),
    serverCert: join(d, 'server.crt'),
    serverKey: join(d, 'server.key'),
    saKey: join(d, 'sa.key'),
    saPub: join(d, 'sa.pub'),
  };
  if (!existsSync(p.caCert)) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p.caKey, '-out', p.caCert, '-days', '3650', '-subj', '/CN=ebbtide-test-ca'], d);
  }
  if (!existsSync(p.serverCert)) {
    writeFileSync(join(d, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p.serverKey, '-out', join(d, 'server.csr'), '-subj', '/CN=127.0.0.1'], d);
    openssl(['x509', '-req', '-in', join(d, 'server.csr'), '-CA', p.caCert, '-CAkey', p.caKey, '-CAcreateserial', '-out', p.serverCert, '-days', '3650', '-extfile', join(d, 'server.ext')], d);
  }
  if (!existsSync(p.saKey)) {
    openssl(['genrsa', '-out', p.saKey, '2048'], d);
    openssl(['rsa', '-in', p.saKey, '-pubout', '-out', p.saPub], d);
  }
  return p;
}
