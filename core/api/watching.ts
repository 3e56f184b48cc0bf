/**
 * Watched folders while the app runs: the libraries with `watch` on (Libraries screen) are
 * watched (core/library/watch.ts); what arrives or changes is placed in the groups as Place new
 * images does (a job of that kind), once the folder is quiet, or once the running job ends.
 * A `watch` event says what arrived and what becomes of it (the status line shows it).
 */
import path from 'node:path';
import { FolderWatcher, type FolderChanges, type WatchOptions } from '../library/watch.js';
import type { ServiceContext } from './context.js';
import { startPlaceNew } from './handlers/jobs.js';

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** "3 new and 1 changed images in Pictures" (what arrived), or null when nothing did that matters. */
export function arrivedText(c: Pick<FolderChanges, 'root' | 'added' | 'changed' | 'removed'>): string | null {
  const parts: string[] = [];
  if (c.added.length) parts.push(`${c.added.length} new`);
  if (c.changed.length) parts.push(`${c.changed.length} changed`);
  if (parts.length === 0 && c.removed.length === 0) return null;
  const what = parts.length
    ? `${parts.join(' and ')} image${c.added.length + c.changed.length === 1 ? '' : 's'}`
    : `${plural(c.removed.length, 'image')} gone`;
  return `${what} in ${path.basename(c.root) || c.root}`;
}

export function watchLibraries(ctx: ServiceContext, options: WatchOptions): { close(): Promise<void> } {
  const { store } = ctx;
  let waiting: string | null = null;
  const place = (text: string) => {
    if (store.runs.activeRunId() === null) {
      ctx.emit({ type: 'watch', text: `${text}: Group images (Libraries) to include them` });
      return;
    }
    if (ctx.jobs.busy) {
      waiting = text;
      ctx.emit({ type: 'watch', text: `${text}: placing them once the running job ends` });
      return;
    }
    waiting = null;
    try {
      startPlaceNew(ctx);
    } catch (err) {
      // e.g. the grouping's model was removed: say why instead of placing nothing in silence
      ctx.emit({ type: 'watch', text: `${text}: not placed (${err instanceof Error ? err.message : String(err)})` });
      return;
    }
    ctx.emit({ type: 'watch', text: `${text}: placing them in your groups` });
  };
  const watcher = new FolderWatcher((changes) => {
    const text = arrivedText(changes);
    if (text) place(text);
  }, options);
  const sync = () =>
    void watcher.set(
      store.libraries
        .list()
        .filter((l) => l.watch !== 0)
        .map((l) => l.rootPath),
    );
  sync();
  const onEvent = (e: { type: string; what?: string; job?: { status: string } }) => {
    if (e.type === 'changed' && e.what === 'libraries') sync();
    if (e.type === 'job' && e.job?.status !== 'running' && waiting) setTimeout(() => waiting && !ctx.jobs.busy && place(waiting), 0);
  };
  ctx.events.on('event', onEvent);
  return {
    async close() {
      ctx.events.off('event', onEvent);
      await watcher.close();
    },
  };
}
