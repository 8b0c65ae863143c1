#!/usr/bin/env node
// node test/servers/kubernetes/start.mjs --dir DIR [--bin BINDIR]
// A real local Kubernetes control plane (etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager, built by build.sh) plus a process kubelet; see README.md.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, '..', '..', 'dist', 'servers', 'kubernetes', 'src', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('start.mjs: test/servers/kubernetes is not compiled yet; run `npx tsc -b` in the repository root first\n');
  process.exit(2);
}
const { main } = await import(entry);
try {
  await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`start.mjs: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
