/** Path questions asked of library folders by the scan, the store and exports alike. */
import path from 'node:path';

/** `child` is `parent` or lies below it. `..x` is a name below parent, not a way out of it. */
export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
}
