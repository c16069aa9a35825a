// ESLint rule `boundaries/lib-imports`: which library may import which, and only through its barrel.
// The graph below is the one docs/architecture.md draws (test/architecture.spec.ts checks both agree).
import path from 'node:path';

/**
 * Each library and the libraries it may import. Anything not listed is forbidden, including relative paths
 * into another library's folder. incidents is planned (issue 15).
 */
export const LIB_GRAPH = {
  config: [],
  common: ['config'],
  telemetry: ['config', 'common'],
  datadog: ['config', 'common', 'telemetry'],
  ledger: ['config', 'common', 'telemetry', 'datadog'],
  ml: ['config', 'common', 'telemetry'],
  forecast: ['config', 'common', 'telemetry', 'datadog', 'ledger', 'ml'],
  llm: ['config', 'common', 'telemetry', 'ledger', 'ml'],
  'health-score': ['config', 'common', 'telemetry', 'datadog', 'ledger', 'forecast'],
  insights: ['config', 'common', 'telemetry', 'health-score', 'ml', 'forecast', 'ledger'],
  incidents: ['config', 'common', 'telemetry', 'insights', 'datadog'],
  security: ['config', 'common', 'telemetry'],
  'control-room': ['config', 'common'],
};

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `{ kind: 'lib', name }` for a file under libs/<name>/, `{ kind: 'app' }` under apps/, else tools/tests. */
function ownerOf(file) {
  const rel = path.relative(ROOT, file).split(path.sep);
  if (rel[0] === 'libs' && rel[1]) return { kind: 'lib', name: rel[1] };
  if (rel[0] === 'apps') return { kind: 'app' };
  return { kind: 'tool' };
}

/** The library an import names, and whether it goes past the barrel. */
function targetOf(specifier, file) {
  const alias = /^@app\/([^/]+)(\/.*)?$/.exec(specifier);
  if (alias) return { name: alias[1], deep: alias[2] !== undefined, alias: true };
  if (!specifier.startsWith('.')) return undefined;
  const resolved = path.relative(ROOT, path.resolve(path.dirname(file), specifier)).split(path.sep);
  if (resolved[0] !== 'libs' || !resolved[1]) return undefined;
  return { name: resolved[1], deep: true, alias: false };
}

const isTest = (file) => /\.(e2e-)?spec\.ts$/.test(file);

export const libImportsRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Libraries import only the libraries the architecture allows, through their barrels.' },
    schema: [],
    messages: {
      forbidden:
        "'{{from}}' may not import '{{to}}' (allowed: {{allowed}}). The graph is in docs/architecture.md and tools/eslint/lib-boundaries.mjs.",
      deep: "Import '{{to}}' through its barrel '@app/{{to}}', not '{{specifier}}'.",
      unknown: "'@app/{{to}}' is not a library of this repository (tools/eslint/lib-boundaries.mjs).",
    },
  },
  create(context) {
    const file = context.filename;
    const owner = ownerOf(file);
    const check = (node) => {
      const specifier = node.source?.value;
      if (typeof specifier !== 'string') return;
      const target = targetOf(specifier, file);
      if (!target) return;
      if (!(target.name in LIB_GRAPH)) {
        context.report({ node, messageId: 'unknown', data: { to: target.name } });
        return;
      }
      if (owner.kind === 'lib' && owner.name === target.name) return;
      if (owner.kind === 'lib') {
        const allowed = LIB_GRAPH[owner.name] ?? [];
        if (!allowed.includes(target.name)) {
          context.report({
            node,
            messageId: 'forbidden',
            data: { from: owner.name, to: target.name, allowed: allowed.join(', ') || 'none' },
          });
          return;
        }
      }
      // Tools, benchmarks and tests may reach into a library by relative path (training tasks, adapters under
      // test); libraries and the app go through the barrel, and nobody uses a deep alias.
      const deepAllowed = owner.kind === 'tool' || (isTest(file) && !target.alias);
      if (target.deep && !deepAllowed) {
        context.report({ node, messageId: 'deep', data: { to: target.name, specifier } });
      }
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: (node) => {
        if (node.source.type === 'Literal') check({ source: node.source, ...node });
      },
    };
  },
};

export default { rules: { 'lib-imports': libImportsRule } };
