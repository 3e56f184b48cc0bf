/** Libraries: the folders the app indexes, and the files in them it skipped or misses. */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ApiHandlers } from '../../shared/contract.js';
import { ApiError } from '../../shared/client.js';
import { decodeSkip } from '../../jobs/indexing/indexLibrary.js';
import { requireIdle, type ServiceContext } from '../context.js';
import { libraryView } from '../views.js';
import { listFolders } from '../folders.js';

export type LibraryHandlers = Pick<
  ApiHandlers,
  'listLibraries' | 'addLibrary' | 'removeLibrary' | 'listSkipped' | 'listMissing' | 'setLibraryWatch' | 'browseFolders'
>;

export function libraryHandlers(ctx: ServiceContext): LibraryHandlers {
  const { store } = ctx;
  return {
    async listLibraries() {
      return store.libraries.list().map((l) => libraryView(store, l.id));
    },
    async addLibrary({ path: p }) {
      const abs = path.resolve(p);
      if (!statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new ApiError('invalid-input', `not a folder: ${p}`);
      // A refused folder (the whole disk, a system folder, Constellate's data, one inside a
      // library or holding one) is a store error with a message for the user: toErrorBody
      // makes it invalid input, or a conflict with the libraries it names.
      const lib = store.libraries.add(realpathSync(abs));
      ctx.emit({ type: 'changed', what: 'libraries' });
      return libraryView(store, lib.id);
    },
    async removeLibrary({ id }) {
      requireIdle(ctx.jobs, 'wait for the running job to finish');
      store.libraries.remove(id);
      ctx.active.invalidate();
      ctx.emit({ type: 'changed', what: 'libraries' });
      ctx.emit({ type: 'changed', what: 'groups' });
      return { ok: true };
    },
    async setLibraryWatch({ id, watch }) {
      if (!store.libraries.get(id)) throw new ApiError('not-found', `library ${id} not found`);
      store.libraries.setWatch(id, watch);
      ctx.emit({ type: 'changed', what: 'libraries' });
      return libraryView(store, id);
    },
    async browseFolders({ path: p }) {
      return listFolders(p);
    },
    async listSkipped({ offset, limit }) {
      const rows = store.images.listSkipped({ limit: offset + limit });
      const total = store.images.countsByStatus().skipped;
      return {
        total,
        items: rows.slice(offset).map((r) => ({ imageId: r.id, path: r.absPath, ...decodeSkip(r.skipReason) })),
      };
    },
    async listMissing({ offset, limit }) {
      const rows = store.images.listMissing({ limit: offset + limit });
      return {
        total: store.images.countsByStatus().missing,
        items: rows.slice(offset).map((r) => ({
          imageId: r.id,
          path: r.absPath,
          missingSince: r.missingSince === null ? null : new Date(r.missingSince).toISOString(),
        })),
      };
    },
  };
}
