import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

/** One TypeScript file, parsed (with parent links), for tests that read what the code does. */
export function parseSource(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true);
}

/** The TypeScript files under `dir` (recursively), parsed. */
export function parseSources(dir: string): ts.SourceFile[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .sort()
    .map((name) => parseSource(join(dir, name)));
}

/** `root` and every node below it, depth first. */
export function* nodes(root: ts.Node): Generator<ts.Node> {
  const file = root.getSourceFile();
  const stack: ts.Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    yield node;
    stack.push(...node.getChildren(file));
  }
}
