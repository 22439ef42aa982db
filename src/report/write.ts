/** Writes a run's artifacts: results JSON (always), HTML report and JUnit XML (when a directory is given). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeHtmlReport } from './html.ts';
import { writeJunit } from './junit.ts';
import type { RunResults } from './results.ts';

export interface ArtifactPaths {
  json?: string;
  html?: string;
  junit?: string;
}

export function writeArtifacts(
  results: RunResults,
  opts: { jsonPath?: string; reportDir?: string },
): ArtifactPaths {
  const out: ArtifactPaths = {};
  if (opts.reportDir) {
    mkdirSync(opts.reportDir, { recursive: true });
    out.html = writeHtmlReport(results, opts.reportDir);
    out.junit = writeJunit(results, join(opts.reportDir, 'junit.xml'));
    out.json = join(opts.reportDir, 'results.json');
  }
  if (opts.jsonPath) out.json = opts.jsonPath;
  if (out.json) {
    const doc: RunResults = {
      ...results,
      artifacts: {
        ...results.artifacts,
        ...(out.html ? { html: out.html } : {}),
        ...(out.junit ? { junit: out.junit } : {}),
      },
    };
    writeJsonFile(out.json, doc);
  }
  return out;
}

/** Writes `doc` as indented JSON to `path` (creating its directory); returns the path. */
export function writeJsonFile(path: string, doc: unknown): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  return path;
}
