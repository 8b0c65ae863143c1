/** The kinds `ebbtide plugin new` can write, with what each registers. */
export const TEMPLATE_KINDS = ['heuristic', 'workers-to-close', 'worker-key', 'allocation', 'backend', 'scheduler'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface TemplateNames {
  /** The plugin's name as given: kebab-case (`per-n`). */
  plugin: string;
  /** npm package name: `ebbtide-plugin-per-n`. */
  packageName: string;
  /** The config section the plugin owns: camelCase (`perN`). */
  section: string;
  /** A class name: PascalCase (`PerN`). */
  className: string;
}

export function templateNames(plugin: string): TemplateNames {
  const words = plugin.split('-');
  const camel = words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
  return { plugin, packageName: `ebbtide-plugin-${plugin}`, section: camel, className: camel[0]!.toUpperCase() + camel.slice(1) };
}

/** One file of the generated package: its path inside the package and its text. */
export interface TemplateFile {
  path: string;
  text: string;
}

export function packageJson(n: TemplateNames, kind: TemplateKind, coreVersion: string): string {
  return (
    JSON.stringify(
      {
        name: n.packageName,
        version: '0.1.0',
        description: `An ebbtide ${kind} plugin`,
        type: 'module',
        main: './dist/src/index.js',
        types: './dist/src/index.d.ts',
        exports: { '.': { types: './dist/src/index.d.ts', default: './dist/src/index.js' }, './package.json': './package.json' },
        files: ['dist/src', 'README.md'],
        keywords: ['ebbtide-plugin', `ebbtide-${kind}`],
        scripts: { build: 'tsc -p .', test: 'tsc -p . && mocha', prepack: 'tsc -p .' },
        peerDependencies: { '@ebbtide/core': `^${coreVersion}`, rxjs: '^7.8.0' },
        devDependencies: {
          '@ebbtide/core': `^${coreVersion}`,
          '@types/mocha': '10.0.10',
          '@types/node': '20.19.43',
          mocha: '12.0.3',
          rxjs: '7.8.2',
          typescript: '7.0.2',
        },
        engines: { node: '>=20' },
        license: 'Apache-2.0',
      },
      null,
      2,
    ) + '\n'
  );
}

export const TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2023"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "esModuleInterop": true,
    "skipLibCheck": true,
    "sourceMap": true,
    "declaration": true,
    "outDir": "dist",
    "rootDir": ".",
    "types": ["node", "mocha"]
  },
  "include": ["src/**/*.ts", "test/**/*.ts"]
}
`;

export const MOCHARC = `{ "spec": ["dist/test/**/*.test.js"], "enable-source-maps": true, "timeout": 60000 }
`;

export const GITIGNORE = `node_modules/
dist/
*.tgz
`;

export function readme(n: TemplateNames, kind: TemplateKind, what: string, configExample: string): string {
  return `# ${n.packageName}

An [ebbtide](https://github.com/ebbtide/ebbtide) ${kind} plugin: ${what}

\`\`\`sh
npm install ${n.packageName}
\`\`\`

\`\`\`yaml
# ebbtide.yaml
plugins: [${n.packageName}]
${configExample}\`\`\`

\`ebbtide plugins -c ebbtide.yaml\` lists it; \`ebbtide config --check -c ebbtide.yaml\` validates its options.

## Develop

\`npm test\` compiles and runs the tests, among them ebbtide's contract suite for a ${kind}
(\`@ebbtide/core/testing\`): it checks what every ${kind} must guarantee and names any broken
guarantee. Publish with \`npm publish\`; users add the package name to \`plugins\`.
`;
}
