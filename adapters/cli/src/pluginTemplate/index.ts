import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EbbtideError } from '@ebbtide/core';
import { allocationFiles } from './allocationTemplate.js';
import { backendFiles } from './backendTemplate.js';
import { GITIGNORE, MOCHARC, TEMPLATE_KINDS, type TemplateFile, type TemplateKind, TSCONFIG, packageJson, templateNames } from './common.js';
import { heuristicFiles, workerKeyFiles, workersToCloseFiles } from './decisionTemplates.js';
import { schedulerFiles } from './schedulerTemplate.js';

export { TEMPLATE_KINDS, type TemplateKind } from './common.js';

const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Every file of a new plugin package of `kind` named `plugin`. */
export function pluginTemplate(plugin: string, kind: TemplateKind, coreVersion: string): TemplateFile[] {
  const n = templateNames(plugin);
  const files =
    kind === 'heuristic'
      ? heuristicFiles(n)
      : kind === 'workers-to-close'
        ? workersToCloseFiles(n)
        : kind === 'worker-key'
          ? workerKeyFiles(n)
          : kind === 'allocation'
            ? allocationFiles(n)
            : kind === 'backend'
              ? backendFiles(n)
              : schedulerFiles(n);
  return [
    { path: 'package.json', text: packageJson(n, kind, coreVersion) },
    { path: 'tsconfig.json', text: TSCONFIG },
    { path: '.mocharc.json', text: MOCHARC },
    { path: '.gitignore', text: GITIGNORE },
    ...files,
  ];
}

/**
 * Writes a new plugin package into `dir/NAME` (a folder that must not exist or be empty).
 * @throws EbbtideError `USAGE` for a bad name or kind, or a folder in the way.
 */
export function writePluginTemplate(dir: string, plugin: string, kind: string, coreVersion: string): { root: string; files: string[] } {
  if (!NAME_RE.test(plugin)) throw new EbbtideError('USAGE', `plugin new: the name must be kebab-case (a-z, 0-9, -), got "${plugin}"`);
  if (!(TEMPLATE_KINDS as readonly string[]).includes(kind)) {
    throw new EbbtideError('USAGE', `plugin new: --kind must be one of ${TEMPLATE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const root = resolve(dir, plugin);
  if (existsSync(root) && readdirSync(root).length > 0) throw new EbbtideError('USAGE', `plugin new: ${root} already exists and is not empty`);
  const files = pluginTemplate(plugin, kind as TemplateKind, coreVersion);
  for (const f of files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text);
  }
  return { root, files: files.map((f) => f.path) };
}
