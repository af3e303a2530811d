import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The layers of src/, from the file's own entry or else the folder (or top-level file) it lives
 * in, and which layers each may import: rpc → domain → store, pure WebAuthn logic below the
 * domain without the transport's error types, the wiring above everything. A file may import its own layer except where noted.
 */
const LAYER_OF: Record<string, Layer> = {
  "app.ts": "wiring",
  "main.ts": "wiring",
  "config.ts": "wiring", // reads the environment and every layer's defaults
  cli: "wiring",
  "telemetry/register.ts": "wiring", // main's first import: loads the configuration to start telemetry
  "telemetry/rpc-stage.ts": "rpc", // the call pipeline's span and duration stage, beside its other stages in rpc/
  rpc: "rpc",
  transport: "rpc", // the service port's server: HTTP/2, TLS and request-size limits
  ceremonies: "domain",
  "step-up": "domain",
  audit: "domain",
  tokens: "domain",
  attestation: "domain",
  limits: "domain",
  callers: "domain",
  telemetry: "domain",
  tenants: "domain", // the tenant model, the tenants file and its reloader
  "server-secrets.ts": "domain",
  webauthn: "pure",
  store: "store",
  "errors.ts": "errors", // AuthError and its reasons; their mapping to Connect is rpc/connect-error.ts
  gen: "contract", // buf generate output: the proto contract
  "lifetimes.ts": "base",
  "logger.ts": "base",
  "file-poll.ts": "base", // file stamps and polling, for the reloaders of tenants, keys and the MDS BLOB
  "field-limits.ts": "base", // request field sizes, read by rpc, audit and webauthn alike
  "server-limits": "base", // every listening server's limits: the service port, health's Watch, the scrape port
  http: "base", // public JSON documents over plain HTTP GET (JWKS, well-known) and the request's host
};

type Layer = "wiring" | "rpc" | "domain" | "pure" | "store" | "errors" | "contract" | "base";

const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  wiring: ["wiring", "rpc", "domain", "pure", "store", "errors", "contract", "base"],
  rpc: ["rpc", "domain", "pure", "errors", "contract", "base"],
  domain: ["domain", "pure", "store", "errors", "base"],
  store: ["store", "pure", "errors", "base"], // pure logic does no I/O and imports nothing above it
  pure: ["pure", "errors", "base"],
  errors: ["contract", "base"], // the contract's reason names, type only
  contract: ["contract"],
  base: ["base"],
};

const SRC = "src";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join(SRC, "gen") ? [] : sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** A file's own entry (a wiring file inside a domain folder), else its folder's or top-level file's. */
function layerOf(file: string): Layer {
  const path = relative(SRC, file);
  const top = path.split("/")[0]!;
  const layer = LAYER_OF[path] ?? LAYER_OF[top];
  if (!layer) throw new Error(`${file}: no layer for ${top}; add it to LAYER_OF`);
  return layer;
}

/** Every relative import of a file, type-only and re-exports included, as the file it names. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => normalize(join(dirname(file), name)).replace(/\.js$/, ".ts"));
}

const graph = new Map(sourceFiles(SRC).map((file) => [file, importsOf(file)]));

/** Each cycle once, as `a → b → … → a` starting from its smallest file (depth-first search). */
function cycles(): string[] {
  const found = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "open") {
        const loop = path.slice(path.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        found.add([...rotated, rotated[0]].join(" → "));
      } else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return [...found].sort();
}

function upwardImports(): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    for (const target of imports) {
      const from = layerOf(file);
      const to = layerOf(target);
      if (!MAY_IMPORT[from].includes(to)) found.push(`${file} → ${target} (${from} → ${to})`);
    }
  }
  return [...new Set(found)].sort();
}

describe("layering of src/", () => {
  it("reads the imports it checks (type-only ones included)", () => {
    expect(graph.get(join(SRC, "ceremonies", "deps.ts"))).toContain(join(SRC, "store", "index.ts"));
    expect(graph.size).toBeGreaterThan(100);
  });

  it("has no import cycle", () => {
    expect(cycles()).toEqual([]);
  });

  it("imports only downward", () => {
    expect(upwardImports()).toEqual([]);
  });
});
