/**
 * Watch folders (chokidar): image files added, changed or removed under the watched roots are
 * collected and reported once the folder has been quiet for `debounceMs` (a camera import
 * writes hundreds of files in a burst: one report, not hundreds), each file only once it has
 * stopped growing (awaitWriteFinish). Hidden files and folders, and export folders (their
 * marker), are left out, as scans leave them out.
 */
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import { EXPORT_MARKER } from './exportMarker.js';
import { isSupportedExtension } from './formats.js';

export interface FolderChanges {
  root: string;
  added: string[];
  changed: string[];
  removed: string[];
}

export interface WatchOptions {
  debounceMs?: number;
  /** How long a file's size must hold still before it counts as written. */
  stableMs?: number;
  /** Poll instead of native events (network drives; tests on file systems without events). */
  usePolling?: boolean;
}

export class FolderWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly pending = new Map<string, FolderChanges>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly onChanges: (changes: FolderChanges) => void,
    private readonly options: WatchOptions = {},
  ) {}

  /** Watches exactly `roots` from now on (new ones start, others stop). */
  async set(roots: readonly string[]): Promise<void> {
    const want = new Set(roots.map((r) => path.resolve(r)));
    for (const [root, w] of this.watchers) {
      if (want.has(root)) continue;
      this.watchers.delete(root);
      clearTimeout(this.timers.get(root));
      await w.close();
    }
    await Promise.all([...want].filter((r) => !this.watchers.has(r)).map((r) => this.start(r)));
  }

  get roots(): string[] {
    return [...this.watchers.keys()];
  }

  private start(root: string): Promise<void> {
    const w = chokidar.watch(root, {
      ignoreInitial: true,
      persistent: true,
      usePolling: this.options.usePolling ?? false,
      interval: 500,
      awaitWriteFinish: { stabilityThreshold: this.options.stableMs ?? 1500, pollInterval: 100 },
      // hidden files and folders; the folders an export wrote (their marker's folder)
      ignored: (p: string) => path.basename(p).startsWith('.') && p !== root,
    });
    this.watchers.set(root, w);
    const note = (kind: 'added' | 'changed' | 'removed') => (file: string) => {
      if (!isSupportedExtension(file)) return;
      if (path.basename(file) === EXPORT_MARKER) return;
      const c = this.pending.get(root) ?? { root, added: [], changed: [], removed: [] };
      c[kind].push(file);
      this.pending.set(root, c);
      clearTimeout(this.timers.get(root));
      this.timers.set(
        root,
        setTimeout(() => {
          const changes = this.pending.get(root);
          this.pending.delete(root);
          if (changes) this.onChanges(changes);
        }, this.options.debounceMs ?? 3000),
      );
    };
    w.on('add', note('added')).on('change', note('changed')).on('unlink', note('removed'));
    return new Promise((resolve) => {
      w.once('ready', () => resolve());
      w.once('error', () => resolve());
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    await Promise.all([...this.watchers.values()].map((w) => w.close()));
    this.watchers.clear();
  }
}
