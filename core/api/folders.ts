/**
 * Browser mode's folder picker: a browser cannot hand a page a folder's path, so the server
 * lists folders itself, only within the user's home folder and mounted drives (/media, /mnt,
 * /run/media, /Volumes; drive letters on Windows): never the system's folders.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FolderListing } from '../shared/contract.js';
import { ApiError } from '../shared/client.js';

const NAMES = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function subfolders(dir: string): Array<{ name: string; path: string }> {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((n) => !n.startsWith('.'))
    .filter((n) => {
      try {
        return statSync(path.join(dir, n)).isDirectory();
      } catch {
        return false;
      }
    })
    .sort((a, b) => NAMES.compare(a, b))
    .slice(0, 2000)
    .map((n) => ({ name: n, path: path.join(dir, n) }));
}

/** The home folder and the mounted drives (each drive a root of its own). */
export function browseRoots(home = os.homedir()): Array<{ name: string; path: string }> {
  const roots = [{ name: 'Home', path: home }];
  if (process.platform === 'win32') {
    for (const letter of 'CDEFGHIJKLMNOPQRSTUVWXYZ')
      if (existsSync(`${letter}:\\`)) roots.push({ name: `${letter}:`, path: `${letter}:\\` });
    return roots;
  }
  const user = os.userInfo().username;
  for (const base of ['/Volumes', '/media', `/media/${user}`, `/run/media/${user}`, '/mnt']) {
    for (const f of subfolders(base))
      if (f.path !== `/media/${user}` && !roots.some((r) => r.path === f.path)) roots.push({ name: f.name, path: f.path });
  }
  return roots;
}

const inside = (p: string, root: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

export function listFolders(requested: string | undefined, roots = browseRoots()): FolderListing {
  const home = roots[0]!.path;
  const want = path.resolve(requested?.trim() ? requested.replace(/^~(?=$|[\\/])/, home) : home);
  let real: string;
  try {
    real = realpathSync(want);
  } catch {
    throw new ApiError('not-found', `${want} does not exist`);
  }
  const root = roots.find((r) => inside(real, safeReal(r.path)));
  if (!root)
    throw new ApiError(
      'invalid-input',
      'Only your home folder and mounted drives can be browsed here: type another path in the field instead',
    );
  const parent = real === safeReal(root.path) ? null : path.dirname(want);
  return { path: want, parent, folders: subfolders(want), roots };
}

function safeReal(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
