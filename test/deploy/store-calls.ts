import { basename } from "node:path";
import ts from "typescript";
import * as tables from "../../src/store/tables.js";
import { nodes, parseSource, parseSources } from "./typescript-source.js";

/**
 * What src/store sends to DynamoDB, read from the source with the TypeScript parser, as IAM
 * actions per table (the keys of tableNames()) and per resource ("table" or "index/<name>").
 *
 * - `new XCommand({...})` is the action X, and `queryAll(client, {...})` is a Query, except TransactWriteItems/TransactGetItems, which IAM
 *   authorises per item: `Put`/`Update`/`Delete`/`ConditionCheck` members of transaction items
 *   count as PutItem/UpdateItem/DeleteItem/ConditionCheckItem.
 * - Every call must name `TableName: this.table`; the table is the one src/store/index.ts gives
 *   the class (`new XStore(client, names.<table>)`).
 * - A Query's resource: its explicit IndexName (an index constant of tables.ts; `undefined` in a
 *   conditional means the table itself); without one, the table, and when the request object
 *   has a spread (the index may come from a caller) every index the file names.
 */

export type Resource = "table" | `index/${string}`;
/** table key → action → resources */
export type StoreCalls = Map<string, Map<string, Set<Resource>>>;

const TRANSACTION_COMMANDS = new Set(["TransactWriteItems", "TransactGetItems"]);
const TRANSACTION_ITEMS: Record<string, string> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
};
/** Index constants exported by tables.ts, by identifier. */
const INDEXES = new Map(Object.entries(tables).filter(([name, value]) => name.endsWith("_INDEX") && typeof value === "string") as [string, string][]);

export interface StoreCallsOptions {
  /** Files whose commands are not the service's data plane, with the reason (e.g. table creation). */
  readonly elsewhere: Readonly<Record<string, string>>;
}

function property(literal: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const p of literal.properties) {
    if (ts.isPropertyAssignment(p) && p.name.getText() === name) return p.initializer;
  }
  return undefined;
}

function requireOwnTable(literal: ts.ObjectLiteralExpression, where: string): void {
  const table = property(literal, "TableName");
  if (table?.getText() !== "this.table") {
    throw new Error(`${where}: TableName is ${table?.getText() ?? "missing"}, not this.table; teach test/deploy/store-calls.ts the table`);
  }
}

function indexesIn(expression: ts.Node, file: ts.SourceFile): Resource[] {
  const found: Resource[] = [];
  for (const n of nodes(expression)) {
    if (ts.isIdentifier(n) && n.text === "undefined") found.push("table");
    if (ts.isIdentifier(n) && INDEXES.has(n.text)) found.push(`index/${INDEXES.get(n.text)!}`);
  }
  if (found.length === 0) throw new Error(`${file.fileName}: IndexName ${expression.getText(file)} names no index constant of tables.ts`);
  return found;
}

function queryResources(literal: ts.ObjectLiteralExpression, file: ts.SourceFile): Resource[] {
  const index = property(literal, "IndexName");
  if (index) return indexesIn(index, file);
  if (!literal.properties.some(ts.isSpreadAssignment)) return ["table"];
  return ["table", ...[...nodes(file)].filter((n) => ts.isIdentifier(n) && INDEXES.has(n.text)).map((n) => `index/${INDEXES.get((n as ts.Identifier).text)!}` as Resource)];
}

/** Actions (with resources) each class sends, by class name. */
function callsByClass(file: ts.SourceFile): Map<string, Map<string, Set<Resource>>> {
  const byClass = new Map<string, Map<string, Set<Resource>>>();
  const add = (node: ts.Node, action: string, resources: Resource[]) => {
    let owner: ts.Node | undefined = node;
    while (owner && !ts.isClassDeclaration(owner)) owner = owner.parent;
    const name = owner && ts.isClassDeclaration(owner) ? owner.name?.text : undefined;
    if (!name) throw new Error(`${file.fileName}: ${action} outside a store class`);
    const actions = byClass.get(name) ?? new Map<string, Set<Resource>>();
    byClass.set(name, actions);
    const set = actions.get(action) ?? new Set<Resource>();
    actions.set(action, set);
    for (const r of resources) set.add(r);
  };
  for (const node of nodes(file)) {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text.endsWith("Command")) {
      const action = node.expression.text.slice(0, -"Command".length);
      if (TRANSACTION_COMMANDS.has(action)) continue; // its items are counted below
      const input = node.arguments?.[0];
      if (!input || !ts.isObjectLiteralExpression(input)) throw new Error(`${file.fileName}: new ${action}Command without an object literal`);
      requireOwnTable(input, `${file.fileName} ${action}`);
      add(node, action, action === "Query" || action === "Scan" ? queryResources(input, file) : ["table"]);
    }
    // queryAll(client, {...}) pages a Query for the calling store class (src/store/query-all.ts).
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "queryAll") {
      const input = node.arguments[1];
      if (!input || !ts.isObjectLiteralExpression(input)) throw new Error(`${file.fileName}: queryAll without an object literal`);
      requireOwnTable(input, `${file.fileName} queryAll`);
      add(node, "Query", queryResources(input, file));
    }
    if (ts.isPropertyAssignment(node) && TRANSACTION_ITEMS[node.name.getText(file)] && ts.isObjectLiteralExpression(node.initializer)) {
      if (!property(node.initializer, "TableName")) continue; // not a transaction item
      requireOwnTable(node.initializer, `${file.fileName} ${node.name.getText(file)}`);
      add(node, TRANSACTION_ITEMS[node.name.getText(file)]!, ["table"]);
    }
  }
  return byClass;
}

/** `new XStore(client, names.<table>)` in src/store/index.ts: class name → table key. */
function tablesByClass(index: ts.SourceFile): Map<string, string> {
  const bound = new Map<string, string>();
  for (const node of nodes(index)) {
    if (!ts.isNewExpression(node) || !ts.isIdentifier(node.expression)) continue;
    const table = node.arguments?.[1];
    if (table && ts.isPropertyAccessExpression(table) && table.expression.getText(index) === "names") {
      bound.set(node.expression.text, table.name.text);
    }
  }
  return bound;
}

export function storeCalls(dir: string, options: StoreCallsOptions): StoreCalls {
  const files = parseSources(dir);
  const index = files.find((f) => basename(f.fileName) === "index.ts")!;
  const classTables = tablesByClass(index);
  const calls: StoreCalls = new Map();
  for (const file of files) {
    if (basename(file.fileName) in options.elsewhere) continue;
    for (const [className, actions] of callsByClass(file)) {
      const table = classTables.get(className);
      if (!table) throw new Error(`${file.fileName}: ${className} sends ${[...actions.keys()]} but index.ts binds it to no table`);
      const merged = calls.get(table) ?? new Map<string, Set<Resource>>();
      calls.set(table, merged);
      for (const [action, resources] of actions) merged.set(action, new Set([...(merged.get(action) ?? []), ...resources]));
    }
  }
  return calls;
}

/** The command names (as IAM actions) a file sends, for the files kept out of the data plane. */
export function commandsIn(path: string): Set<string> {
  const file = parseSource(path);
  const found = new Set<string>();
  for (const node of nodes(file)) {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text.endsWith("Command")) {
      found.add(node.expression.text.slice(0, -"Command".length));
    }
  }
  return found;
}
