import { join } from 'node:path';
import { LockFile } from '@ebbtide/core/sdk';

/**
 * One live ebbtide per YARN service: a lock file in `stateDir/<rm>/<user>/<service>/lock`. YARN
 * has nothing to lock with through its REST API, so the lock covers ebbtides that share this
 * machine's state folder (the usual case: one host runs ebbtide for a cluster). A lock whose
 * process is gone is taken over; one held from another machine cannot be checked and is kept.
 */
export function serviceLock(stateDir: string, rm: string, user: string, service: string): LockFile {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, '_');
  const path = join(stateDir, safe(rm), safe(user), safe(service), 'lock');
  return new LockFile(path, {
    what: `YARN service ${service} (user ${user})`,
    hint: `stop that ebbtide first; if it is gone from another machine, remove ${path}`,
  });
}
