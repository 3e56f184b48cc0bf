/**
 * The core service: implements the API contract over the store and the jobs. Served by the HTTP
 * server (browser mode, CLI `serve`, tests) and by Electron's IPC alike. Thin like Immich's
 * controllers: validation happens in `dispatch`, the work in repositories and jobs, and each area
 * of the contract has its handler module (handlers/: libraries, jobs, groups, images, history, map,
 * exports).
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ApiHandlers } from '../shared/contract.js';
import { PREVIEW_DIR_NAME, previewFile } from '../images/preview.js';
import { isInside } from '../library/paths.js';
import { thumbnailDir, type ImageDetail } from '../store/index.js';
import { createContext, type ServiceOptions } from './context.js';
import { watchLibraries } from './watching.js';
import type { WatchOptions } from '../library/watch.js';
import { exportHandlers } from './handlers/exports.js';
import { groupHandlers } from './handlers/groups.js';
import { historyHandlers } from './handlers/history.js';
import { imageHandlers } from './handlers/images.js';
import { jobHandlers } from './handlers/jobs.js';
import { libraryHandlers } from './handlers/libraries.js';
import { mapHandlers } from './handlers/map.js';
import { organizerHandlers } from './handlers/organizer.js';
import { modelHandlers } from './handlers/models.js';
import { textSearchHandlers } from './handlers/textSearch.js';
import type { ApiHost, MediaKind } from './host.js';

export type { ServiceOptions } from './context.js';

/**
 * Whether an image's original may be served: where it really is (links resolved) lies in its
 * library's real root; or, for a link the scan followed out of the library (the scan follows
 * links to images elsewhere), only while the link still leads to the file the scan decoded
 * (same size and modification time): a link pointed elsewhere since is not followed.
 */
function originalServed(d: Pick<ImageDetail, 'absPath' | 'size' | 'mtimeMs'>, root: string): boolean {
  try {
    if (isInside(realpathSync(d.absPath), realpathSync(root))) return true;
    const st = statSync(d.absPath);
    return st.isFile() && st.size === d.size && Math.trunc(st.mtimeMs) === d.mtimeMs; // the store keeps whole ms
  } catch {
    return false; // gone, or unreadable
  }
}

export function createService(
  options: ServiceOptions & { watch?: boolean | WatchOptions },
): ApiHost & Required<Pick<ApiHost, 'previewFile'>> {
  const ctx = createContext(options);
  const { store } = ctx;
  const watching = options.watch ? watchLibraries(ctx, options.watch === true ? {} : options.watch) : null;
  const handlers: ApiHandlers = {
    ...jobHandlers(ctx),
    ...libraryHandlers(ctx),
    ...groupHandlers(ctx),
    ...historyHandlers(ctx),
    ...imageHandlers(ctx),
    ...mapHandlers(ctx),
    ...exportHandlers(ctx),
    ...organizerHandlers(ctx),
    ...modelHandlers(ctx),
    ...textSearchHandlers(ctx),
  };

  // The first screen's question (the groups, by size), asked while the window opens: at 100,000
  // images its cold query (and the first read of the database's pages) took about a second,
  // which the first paint waited for; cached, the screen's own request is answered at once.
  // And the model worker's index, which the Image screen's suggestions and neighbours read:
  // built now (and again after each job) instead of when the first image is opened.
  const warmModel = () => void ctx.active.warm().catch(() => undefined);
  const warm = setTimeout(() => {
    void handlers.listGroups({ sort: 'size' }).catch(() => undefined);
    warmModel();
  }, 0);
  warm.unref();
  ctx.onJobEnded(warmModel);

  // Found by id, never by a path from the renderer; only for an image that decoded (not a file
  // the scan skipped, one changed since, or one gone), in a registered library.
  function mediaFile(kind: MediaKind, imageId: number): string | null {
    const d = store.images.detail(imageId);
    if (!d || d.status !== 'ok') return null;
    const library = store.libraries.get(d.libraryId);
    if (!library) return null;
    if (kind === 'image') return originalServed(d, library.rootPath) ? d.absPath : null;
    if (!d.thumbPath) return null;
    const dir = thumbnailDir(store.db.file);
    const thumb = path.join(dir, d.thumbPath);
    return isInside(thumb, dir) ? thumb : null;
  }

  return {
    handlers,
    mediaFile,
    async previewFile(imageId: number): Promise<string | null> {
      const original = mediaFile('image', imageId);
      if (!original) return null;
      // Converted copies go beside the thumbnails, next to the database (never in a photo folder).
      const cacheDir = path.join(path.dirname(thumbnailDir(store.db.file)), PREVIEW_DIR_NAME);
      // Gone since the last scan, or unreadable, or not convertible: nothing to show, as for a missing file.
      return previewFile(original, cacheDir).catch(() => null);
    },
    onEvent(listener) {
      ctx.events.on('event', listener);
      return () => ctx.events.off('event', listener);
    },
    async close() {
      clearTimeout(warm);
      await watching?.close();
      const job = ctx.jobs.state;
      if (job && job.status === 'running') ctx.jobs.cancel(job.id);
      await ctx.jobs.idle();
      await ctx.models.close();
      await ctx.active.close();
      ctx.events.removeAllListeners();
    },
  };
}
