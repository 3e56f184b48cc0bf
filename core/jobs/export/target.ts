/**
 * Where an export goes, checked before anything is written: a path a person typed (`~`
 * expanded, relative paths refused where there is no meaningful working directory), a file
 * standing where a folder must be, the folder's nearest existing part (its disk, for hard
 * links), and the library it lies in. Every refusal is an ExportDestinationError whose message
 * can be shown as is.
 */
import { realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isInside } from '../../library/paths.js';

/** The destination cannot be used: nothing was written. The message is for the user. */
export class ExportDestinationError extends Error {
  override readonly name = 'ExportDestinationError';
}

/** `~` and `~/...` are the user's home: a shell would expand them, a text field does not. */
export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/') || (process.platform === 'win32' && p.startsWith('~\\'))) return path.join(os.homedir(), p.slice(2));
  return p;
}

/**
 * An export path typed in the UI: `~` expanded, and absolute. A relative path would resolve
 * against the server's working directory, which the user neither sees nor chose.
 */
export function absoluteExportPath(typed: string, example: string): string {
  const p = expandHome(typed.trim());
  if (!path.isAbsolute(p)) throw new ExportDestinationError(`${typed.trim()} is not a full path: give a full path, e.g. ${example}`);
  return path.normalize(p);
}

/** The file standing where `dir` (or a folder on its way) must be a folder, or null. */
export function fileInTheWay(dir: string): string | null {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    let isDir: boolean | undefined;
    try {
      isDir = statSync(p, { throwIfNoEntry: false })?.isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err; // below a file: look higher
    }
    if (isDir === false) return p;
    if (isDir || path.dirname(p) === p) return null;
  }
}

/** The nearest part of `p` that exists (p itself, or a parent): what mkdir -p would start from. */
export function nearestExisting(p: string): string {
  let q = path.resolve(p);
  while (!statSync(q, { throwIfNoEntry: false }) && path.dirname(q) !== q) q = path.dirname(q);
  return q;
}

/**
 * `p` with symlinks resolved as far as it exists (library roots are stored resolved, so an
 * output reached through a link still compares equal).
 */
export function realpathNearest(p: string): string {
  const near = nearestExisting(p);
  return path.join(realpathSync(near), path.relative(near, path.resolve(p)));
}

/** The library root that `out` is inside of (or is), or null. */
export function libraryContaining(out: string, libraryRoots: readonly string[]): string | null {
  const real = realpathNearest(out);
  return libraryRoots.find((root) => isInside(real, root) || isInside(path.resolve(out), root)) ?? null;
}
