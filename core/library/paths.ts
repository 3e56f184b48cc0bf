/** Path questions asked of library folders by the scan, the store and exports alike. */
import path from 'node:path';

/** `child` is `parent` or lies below it. `..x` is a name below parent, not a way out of it. */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}

/**
 * Folders of the operating system, which hold no photos of the user's and which a scan must not
 * walk: the virtual ones (/proc, /sys, /dev: endless or blocking files) and macOS's sealed
 * /System with everything below them; the others themselves only (a folder below /usr or /var
 * may hold pictures someone put there, and macOS's temp folder is below /private/var).
 */
const WHOLLY_SYSTEM = ['/proc', '/sys', '/dev', '/System'];
const SYSTEM_FOLDERS = [
  '/bin',
  '/boot',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/opt',
  '/run',
  '/sbin',
  '/snap',
  '/srv',
  '/usr',
  '/var',
];
const MACOS_FOLDERS = ['/Applications', '/Library', '/Volumes', '/private', '/private/etc', '/private/var', '/cores'];

/** The whole of a disk: `/`, or a drive's root on Windows (`C:\`). */
export function isFileSystemRoot(p: string): boolean {
  const abs = path.resolve(p);
  return path.parse(abs).root === abs;
}

/**
 * The system folder `real` (a real path) is, or lies in where nothing below is the user's; null
 * for any other folder. On Windows: the Windows folder and the program folders.
 */
export function systemFolderOf(
  real: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const abs = path.resolve(real);
  if (platform === 'win32') {
    const windows = env.SystemRoot ?? env.windir;
    if (windows && isInside(abs, windows)) return windows;
    const programs = [env.ProgramFiles, env['ProgramFiles(x86)'], env.ProgramData].filter((p): p is string => Boolean(p));
    return programs.find((p) => path.resolve(p).toLowerCase() === abs.toLowerCase()) ?? null;
  }
  const below = WHOLLY_SYSTEM.find((f) => isInside(abs, f));
  if (below) return below;
  const exact = [...SYSTEM_FOLDERS, ...(platform === 'darwin' ? MACOS_FOLDERS : [])];
  return exact.includes(abs) ? abs : null;
}
