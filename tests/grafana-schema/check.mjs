// Type-checks Grafana dashboard JSON files against Grafana's published schema, the TypeScript
// types of the @grafana/schema package (pinned in package-lock.json), with the TypeScript
// compiler (pinned too). The package publishes no JSON schema: its types are generated from
// Grafana's CUE schemas (the dashboard kind and each core panel plugin's panelcfg), and they are
// what Grafana's own frontend is compiled against.
//
// Each dashboard becomes a TypeScript module of object literals, each assigned to its schema
// type, so that the compiler checks every field's type and, being literals, refuses any field
// the type does not have (a misspelt option is an error, not ignored):
//   - the whole dashboard as Dashboard (panels, rows, variables, annotations, links, time);
//   - each panel's `options` as the Options of its panel plugin (timeseries, stat, table, ...),
//     and `fieldConfig.defaults.custom` as that plugin's FieldConfig; a panel type without a
//     published panelcfg is an error, as is a custom field config on a plugin that has none;
//   - each target and annotation query as a Prometheus query: the schema's DataQuery plus the
//     fields of Grafana's Prometheus query model (expr, legendFormat, instant, range, format,
//     editorMode, exemplar, interval, intervalFactor); @grafana/schema 12 does not publish the
//     Prometheus data source's query type, so these few fields are written here.
//
// Usage: node check.mjs --modules DIR [--expect-error REGEX] DASHBOARD.json...
//   DIR holds node_modules (npm ci of this directory's package-lock.json).
//   Exit 0 when every file type-checks; 1 with each error named by file, panel and field.
//   With --expect-error: exit 0 only if the check fails and an error matches REGEX (the
//   checker's own test, on a dashboard broken on purpose).

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
let modules = null;
let expectError = null;
const files = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === '--modules') modules = args[++i];
  else if (args[i] === '--expect-error') expectError = new RegExp(args[++i]);
  else files.push(args[i]);
}
if (!modules || files.length === 0) {
  console.error('usage: node check.mjs --modules DIR [--expect-error REGEX] DASHBOARD.json...');
  process.exit(2);
}
modules = path.resolve(modules);
const require = createRequire(path.join(modules, 'package.json'));
const ts = require('typescript');
const schemaRoot = path.join(modules, 'node_modules/@grafana/schema');
const schemaVersion = JSON.parse(fs.readFileSync(path.join(schemaRoot, 'package.json'), 'utf8')).version;

// Panel plugin id -> its panelcfg module (as imported) and whether it has a FieldConfig.
const panelcfgs = new Map();
const composable = path.join(schemaRoot, 'dist/esm/raw/composable');
for (const plugin of fs.readdirSync(composable)) {
  const dir = path.join(composable, plugin, 'panelcfg/x');
  if (!fs.existsSync(dir)) continue;
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('_types.gen.d.ts')) continue;
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    panelcfgs.set(plugin, {
      module: `@grafana/schema/dist/esm/raw/composable/${plugin}/panelcfg/x/${f.replace(/\.d\.ts$/, '.js')}`,
      options: /export interface Options\b/.test(text),
      fieldConfig: /export interface FieldConfig\b/.test(text),
    });
  }
}

const work = fs.mkdtempSync(path.join(modules, 'check-'));
const sources = [];  // {file, source, regions: [{what, at, from, count}]}
const reports = [];  // every error, named by file, part and line
for (const [n, file] of files.entries()) {
  let dashboard;
  try {
    dashboard = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`${file}: not JSON: ${e.message}`);
    process.exit(1);
  }
  const lines = [
    `import type * as G from '@grafana/schema';`,
  ];
  const used = new Map();
  const regions = [];
  const body = [];
  const emit = (what, decl, value) => {
    const text = `export const ${decl} = ${JSON.stringify(value, null, 2)};`.split('\n');
    regions.push({ what, from: 0, count: text.length, at: body.length });
    body.push(...text);
  };
  body.push(
    // A JSON file holds an enum's value: each string enum of the schema becomes the union of
    // its values (`${E}`); numeric enums already accept only their members' numbers.
    `type J<T> = T extends string ? \`\${T}\` : T extends readonly (infer U)[] ? J<U>[] :`,
    `  T extends object ? { [K in keyof T]: J<T[K]> } : T;`,
    `interface PrometheusQuery extends G.DataQuery {`,
    `  expr: string; legendFormat?: string; instant?: boolean; range?: boolean;`,
    `  format?: 'time_series' | 'table' | 'heatmap'; editorMode?: 'code' | 'builder';`,
    `  exemplar?: boolean; interval?: string; intervalFactor?: number;`,
    `}`,
    // Grafana's Prometheus annotations read these beside the query (its annotation editor).
    `interface PrometheusAnnotation extends G.AnnotationQuery<PrometheusQuery> {`,
    `  titleFormat?: string; textFormat?: string; tagKeys?: string; useValueForTime?: boolean; step?: string;`,
    `}`,
    `type DashboardFile = J<Omit<G.Dashboard, 'annotations'>> & { annotations?: { list?: J<PrometheusAnnotation>[] } };`);
  emit('the dashboard', 'dashboard: DashboardFile', dashboard);
  const panels = [];
  const walk = (list) => {
    for (const p of list ?? []) {
      panels.push(p);
      if (Array.isArray(p.panels)) walk(p.panels);
    }
  };
  walk(dashboard.panels);
  for (const [i, p] of panels.entries()) {
    const name = `panel '${p.title}' (id ${p.id}, ${p.type})`;
    if (p.type === 'row') continue;
    const cfg = panelcfgs.get(p.type);
    if (!cfg) {
      reports.push(`${file}: ${name}\n    no panel plugin '${p.type}' in @grafana/schema ${schemaVersion}`);
      continue;
    }
    if (!used.has(p.type)) {
      const alias = `P_${p.type}`;
      used.set(p.type, alias);
      lines.push(`import type * as ${alias} from '${cfg.module}';`);
    }
    const alias = used.get(p.type);
    if (p.options !== undefined) emit(`${name} options`, `p${i}_options: J<${alias}.Options>`, p.options);
    const custom = p.fieldConfig?.defaults?.custom;
    if (custom !== undefined)
      emit(`${name} fieldConfig.defaults.custom`,
           `p${i}_custom: ${cfg.fieldConfig ? `J<${alias}.FieldConfig>` : 'Record<string, never>'}`, custom);
    if (p.targets !== undefined) emit(`${name} targets`, `p${i}_targets: J<PrometheusQuery>[]`, p.targets);
  }
  for (const [i, a] of (dashboard.annotations?.list ?? []).entries())
    if (a.target !== undefined) emit(`annotation '${a.name}' target`, `a${i}_target: J<PrometheusQuery>`, a.target);

  const header = lines.length;
  for (const r of regions) r.from = header + r.at + 1;  // 1-based line of the first line
  const source = path.join(work, `dashboard${n}.ts`);
  fs.writeFileSync(source, [...lines, ...body].join('\n') + '\n');
  sources.push({ file, source, regions });
}

const program = ts.createProgram(sources.map((s) => s.source), {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  types: [],
  skipLibCheck: true,
});
const diagnostics = ts.getPreEmitDiagnostics(program);
for (const d of diagnostics) {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
  let where = '(the check itself)';
  if (d.file) {
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const s = sources.find((x) => path.resolve(x.source) === path.resolve(d.file.fileName));
    if (s) {
      const r = s.regions.find((x) => line + 1 >= x.from && line + 1 < x.from + x.count);
      const text = d.file.text.split('\n')[line].trim();
      where = `${s.file}: ${r ? r.what : 'imports'}: at \`${text.slice(0, 100)}\``;
    } else {
      where = d.file.fileName;
    }
  }
  reports.push(`${where}\n    ${message}`);
}
fs.rmSync(work, { recursive: true, force: true });
for (const r of reports) console.error(r);

if (expectError) {
  if (reports.length === 0) {
    console.error(`FAIL: the check passed, but an error matching ${expectError} was expected`);
    process.exit(1);
  }
  if (!reports.some((r) => expectError.test(r))) {
    console.error(`FAIL: no error matched ${expectError}`);
    process.exit(1);
  }
  console.log(`ok: refused as expected (${reports.length} error(s), one matching ${expectError})`);
  process.exit(0);
}
if (reports.length > 0) {
  console.error(`FAIL: ${reports.length} schema error(s) against @grafana/schema ${schemaVersion}`);
  process.exit(1);
}
console.log(`ok: ${files.length} dashboard(s) match @grafana/schema ${schemaVersion} ` +
            `(${sources.reduce((n, s) => n + s.regions.length, 0)} parts checked)`);
