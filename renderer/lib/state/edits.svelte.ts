/**
 * Edits and their history: every edit goes through `act()`, so undo, refresh and error reporting
 * behave the same on every screen.
 */
import type { Client } from '../../../core/shared/client.js';
import type { HistoryState } from '../../../core/shared/contract.js';
import { message } from '../format.js';
import type { Versions } from './freshness.svelte.js';
import type { Notices } from './notices.svelte.js';

const EMPTY_HISTORY: HistoryState = { canUndo: false, canRedo: false, undoId: null, undoLabel: null, redoLabel: null };

export class Edits {
  history = $state<HistoryState>(EMPTY_HISTORY);
  busy = $state(false);
  /** The latest undo or redo (seq counts them): screens that walk a list (Review) start over. */
  lastUndo = $state<{ seq: number; kind: 'undo' | 'redo' } | null>(null);
  /** What a slow edit in flight is doing ("Splitting “Birds”…"): shown until it ends. */
  working = $state<string | null>(null);

  constructor(
    private readonly client: Client,
    private readonly notices: Notices,
    private readonly versions: Versions,
  ) {}

  async refreshHistory(): Promise<void> {
    try {
      this.history = await this.client.getHistory({});
    } catch {
      /* the status bar shows connection problems */
    }
  }

  /**
   * Runs an edit: busy flag, history update, refresh, a toast with Undo, errors as toasts.
   * `working` says what a slow one is doing while it runs (a split takes seconds). The toast
   * offers Undo only for an edit this call recorded (pinning pinned images records none: Undo
   * there undid the edit before it), and only while that edit is the one Undo undoes. `label`
   * may be worked out from the result ("Split “Birds” into 8 and 5 images").
   */
  async act<T>(
    label: string | ((out: T) => Promise<string>),
    fn: () => Promise<T>,
    working: string | null = null,
    /** Where an error goes instead of a toast (a dialog that shows it and stays open). */
    onError: ((message: string) => void) | null = null,
  ): Promise<T | null> {
    this.busy = true;
    this.working = working;
    const before = this.history.undoId;
    try {
      const out = await fn();
      if (out && typeof out === 'object' && 'canUndo' in out) {
        const h = out as unknown as HistoryState;
        this.history = { canUndo: h.canUndo, canRedo: h.canRedo, undoId: h.undoId, undoLabel: h.undoLabel, redoLabel: h.redoLabel };
      } else await this.refreshHistory();
      this.versions.dataChanged();
      const text = typeof label === 'string' ? label : await label(out);
      if (text) this.notices.toast('info', text, this.history.undoId !== before ? this.history.undoId : null);
      return out;
    } catch (err) {
      if (onError) onError(message(err));
      else this.notices.toast('error', message(err));
      return null;
    } finally {
      this.busy = false;
      this.working = null;
    }
  }

  async undo(): Promise<void> {
    if (!this.history.canUndo) return;
    const label = this.history.undoLabel;
    await this.act('', () => this.client.undo({}));
    this.lastUndo = { seq: (this.lastUndo?.seq ?? 0) + 1, kind: 'undo' };
    this.notices.toast('info', `Undid ${label ?? 'last change'}`);
  }

  async redo(): Promise<void> {
    if (!this.history.canRedo) return;
    const label = this.history.redoLabel;
    await this.act('', () => this.client.redo({}));
    this.lastUndo = { seq: (this.lastUndo?.seq ?? 0) + 1, kind: 'redo' };
    this.notices.toast('info', `Redid ${label ?? 'change'}`);
  }
}
