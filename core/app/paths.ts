/** Locations inside the installed package, the same from core/ (tsx) and dist/core/ (built). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('constellate: cannot find the package root');
}

export const demoFolder = (): string => path.join(packageRoot(), 'demo', 'tuxpaint');
export const rendererDir = (): string => path.join(packageRoot(), 'dist', 'renderer');

/** The package's version (shown by `--version` and in the UI's status bar). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
