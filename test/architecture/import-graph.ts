/**
 * Import graphs of the front (src/, TypeScript) and of the Python runtime
 * (python/portico/), and the cycles in them. Files are named relative to
 * the repository root, with '/' separators.
 *
 * Type-only imports count: they vanish from the compiled JavaScript, but
 * two modules that need each other's types are still one module split in
 * two, and cannot be understood, tested or moved apart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';

/** Each file, and the files it imports (sorted, no duplicates). */
export type ImportGraph = Map<string, string[]>;

function listFiles(root: string, directory: string, extension: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(root, directory), { withFileTypes: true })) {
    const path = posix.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '__pycache__' && entry.name !== 'node_modules') found.push(...listFiles(root, path, extension));
    } else if (entry.name.endsWith(extension)) {
      found.push(path);
    }
  }
  return found.sort();
}

function addEdges(graph: ImportGraph, file: string, targets: Iterable<string>): void {
  graph.set(file, [...new Set(targets)].filter((target) => target !== file).sort());
}

/** The module names a TypeScript file imports: import, export ... from, import(), import x = require(). */
export function typeScriptSpecifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      specifiers.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteralLike(argument)) specifiers.push(argument.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text); // import('./x.js').T in a type
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/** Every .ts file under `directory` and the files of that directory it imports (relative specifiers only). */
export function typeScriptGraph(root: string, directory: string): ImportGraph {
  const files = listFiles(root, directory, '.ts');
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const targets: string[] = [];
    for (const specifier of typeScriptSpecifiers(file, readFileSync(join(root, file), 'utf8'))) {
      if (!specifier.startsWith('.')) continue; // node: built-ins and packages
      // NodeNext: sources import each other by their compiled '.js' names.
      const resolved = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
      for (const candidate of [resolved, `${resolved}.ts`, `${resolved}/index.ts`]) {
        if (known.has(candidate)) {
          targets.push(candidate);
          break;
        }
      }
    }
    addEdges(graph, file, targets);
  }
  return graph;
}

/** Triple-quoted strings and comments, which may hold text that looks like an import. */
function stripPythonNoise(text: string): string {
  return text.replace(/("""|''')[\s\S]*?\1/g, '""').replace(/#[^\n]*/g, '');
}

/**
 * Where a Python file's imports point, as module paths ('portico.codec'),
 * from every import statement, also those inside functions: an import
 * deferred to call time is still a dependency, and a cycle through one
 * only waits for the first call to bite.
 */
export function pythonImports(module: string, isPackage: boolean, text: string): Array<{ module: string; names: string[] }> {
  const found: Array<{ module: string; names: string[] }> = [];
  const code = stripPythonNoise(text);
  // The package a relative import starts from: the module's own for a package's __init__.
  const base = isPackage ? module.split('.') : module.split('.').slice(0, -1);
  for (const match of code.matchAll(/^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)/gm)) {
    const [, dots = '', name = '', imported = ''] = match;
    const names = imported
      .replace(/[()\\]/g, ' ')
      .split(',')
      .map((part) => part.trim().split(/\s+/)[0] ?? '')
      .filter((part) => /^\w+$/.test(part));
    if (dots === '') {
      found.push({ module: name, names });
    } else {
      if (dots.length - 1 > base.length) continue; // above the top package
      const from = base.slice(0, base.length - (dots.length - 1));
      found.push({ module: [...from, ...(name === '' ? [] : name.split('.'))].join('.'), names });
    }
  }
  for (const match of code.matchAll(/^[ \t]*import[ \t]+([^\n]+)/gm)) {
    for (const part of (match[1] ?? '').split(',')) {
      const name = part.trim().split(/\s+/)[0] ?? '';
      if (/^[\w.]+$/.test(name)) found.push({ module: name, names: [] });
    }
  }
  return found;
}

/** Every module of the Python package in `directory` and the modules of that package it imports. */
export function pythonGraph(root: string, directory: string): ImportGraph {
  const packageName = posix.basename(directory);
  const files = listFiles(root, directory, '.py');
  const moduleOf = (file: string): string =>
    [packageName, ...posix.relative(directory, file).replace(/\.py$/, '').split('/')].filter((part) => part !== '__init__').join('.');
  const fileOf = new Map(files.map((file) => [moduleOf(file), file]));
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const targets: string[] = [];
    const isPackage = posix.basename(file) === '__init__.py';
    for (const { module, names } of pythonImports(moduleOf(file), isPackage, readFileSync(join(root, file), 'utf8'))) {
      const target = fileOf.get(module);
      if (target !== undefined) targets.push(target);
      // `from . import codec` imports the submodule codec.
      for (const name of names) {
        const submodule = fileOf.get(`${module}.${name}`);
        if (submodule !== undefined) targets.push(submodule);
      }
    }
    addEdges(graph, file, targets);
  }
  return graph;
}

/**
 * The graph between groups of files: `groupOf` names the group of each
 * file; an edge joins two groups when a file of one imports a file of the
 * other. `via` keeps, for each such edge 'from -> to', the first file
 * import that makes it, for messages.
 */
export function groupGraph(graph: ImportGraph, groupOf: (file: string) => string, via?: Map<string, string>): ImportGraph {
  const groups: ImportGraph = new Map();
  const edges = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = groupOf(file);
    const set = edges.get(from) ?? new Set<string>();
    edges.set(from, set);
    for (const target of targets) {
      const to = groupOf(target);
      set.add(to);
      if (via !== undefined && to !== from && !via.has(`${from} -> ${to}`)) via.set(`${from} -> ${to}`, `${file} -> ${target}`);
    }
  }
  for (const [group, targets] of edges) addEdges(groups, group, targets);
  return groups;
}

/** src/http/listener.ts -> src/http; a file directly in src/ is a group of its own. */
export function topFolder(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : file;
}

/** The strongly connected components of more than one node (Tarjan), each sorted. */
function components(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  // Recursive: import graphs here have a few hundred nodes at most.
  const connect = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(node, Math.min(low.get(node) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) as number, index.get(target) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);
  return found;
}

/** The shortest way from `start` back to itself inside `component`: [start, ..., start]. */
function shortestCycle(graph: ImportGraph, component: ReadonlySet<string>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const target of graph.get(node) ?? []) {
      if (!component.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = cameFrom.get(at)) path.unshift(at);
        path.unshift(start);
        return path;
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start]; // unreachable for a member of a component
}

/**
 * The cycles of the graph: for every node on one, the shortest cycle
 * through it, each once, written 'a -> b -> a' from its smallest node.
 * One per node rather than one per tangle, so that every import to undo
 * shows up in one run.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const cycles = new Map<string, string[]>();
  for (const component of components(graph)) {
    const members = new Set(component);
    for (const member of component) {
      const ring = shortestCycle(graph, members, member).slice(0, -1);
      const first = ring.indexOf([...ring].sort()[0] as string);
      const rotated = [...ring.slice(first), ...ring.slice(0, first)];
      cycles.set(rotated.join(' -> '), [...rotated, rotated[0] as string]);
    }
  }
  return [...cycles.keys()].sort().map((key) => cycles.get(key) as string[]);
}

/** 'a -> b -> a', and under it the file import behind each step when `via` knows it. */
export function formatCycle(cycle: readonly string[], via?: ReadonlyMap<string, string>): string {
  const steps: string[] = [];
  for (let i = 0; i + 1 < cycle.length; i++) {
    const because = via?.get(`${cycle[i]} -> ${cycle[i + 1]}`);
    if (because !== undefined) steps.push(`\n      ${because}`);
  }
  return cycle.join(' -> ') + steps.join('');
}
