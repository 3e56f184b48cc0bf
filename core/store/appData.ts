/** The app-data folder (env-paths), where the default database, its thumbnails and the locks live. */
import envPaths from 'env-paths';

/** e.g. ~/.local/share/constellate on Linux. */
export function appDataDir(): string {
  return envPaths('constellate', { suffix: '' }).data;
}
