/**
 * App-wide state (Svelte 5 runes): the client, the route, status/job/history, toasts and
 * dialogs. Screens read it and call `app.act()` for every edit so undo, refresh and error
 * reporting behave the same everywhere.
 */
import type { Client } from '../../core/shared/client.js';
import type { ApiEvent, HistoryState, JobState, Outputs } from '../../core/shared/contract.js';
import { jobDoneText } from './format.js';
import type { Command } from './keyboard.js';
import { formatRoute, parseRoute, type Route } from './router.js';
import { cssColor } from './spatial.js';

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
  /** The edit this notification reports: it offers Undo while that edit is the one Undo undoes. */
  undoId?: number;
}

/**
 * A dialog field. Text and number fields say whether they must be filled (`required`): the
 * browser blocks the dialog's button until they are. `when` shows a field only while another
 * field has a given value (a new group's name, only when "a new group" is chosen).
 */
export type Field = { name: string; label: string; when?: { field: string; is: string } } & (
  | { type: 'text'; required: boolean; value?: string; placeholder?: string }
  | { type: 'number'; required: boolean; value?: number; min?: number; max?: number }
  | { type: 'select'; value?: string; options: Array<{ value: string; label: string }> }
);

export interface Dialog {
  title: string;
  body?: string;
  fields: Field[];
  confirm: string;
  danger?: boolean;
  /**
   * Does the dialog's work when confirmed: a message keeps the dialog open with it shown and
   * the typed values kept (a name already taken), null closes it. Without it, it just closes.
   */
  submit?: (values: Record<string, string>) => Promise<string | null>;
  resolve: (values: Record<string, string> | null) => void;
}

// Browser globals through a narrow structural type, so this module also type-checks (and runs
// in component tests) without the DOM lib.
const win = globalThis as unknown as {
  location?: { hash: string };
  addEventListener?: (type: 'hashchange', fn: () => void) => void;
  history?: { replaceState(data: unknown, unused: string, url: string): void };
};

/** What each job is called in its failed or cancelled message. */
const JOB_NAMES: Record<JobState['kind'], string> = { cluster: 'Grouping', recluster: 'Regrouping', split: 'Splitting', 'place-new': 'Place new images' };

const EMPTY_HISTORY: HistoryState = { canUndo: false, canRedo: false, undoId: null, undoLabel: null, redoLabel: null };

export class AppState {
  route = $state<Route>({ name: 'groups' });
  status = $state<Outputs['getStatus'] | null>(null);
  statusError = $state<string | null>(null);
  job = $state<JobState | null>(null);
  history = $state<HistoryState>(EMPTY_HISTORY);
  toasts = $state<Toast[]>([]);
  dialog = $state<Dialog | null>(null);
  showHelp = $state(false);
  showExport = $state(false);
  /** Set to ask the Groups screen to focus its search field (Edit > Find Group…); it clears it. */
  focusSearch = $state(false);
  /** Bumped when groups/images change: screens refetch. */
  dataVersion = $state(0);
  libVersion = $state(0);
  /** Each group's colour slot (GroupSummary.color), so every swatch matches the map. */
  groupSlots = $state.raw<ReadonlyMap<number, number>>(new Map());
  busy = $state(false);
  /** The latest undo or redo (seq counts them): screens that walk a list (Review) start over. */
  lastUndo = $state<{ seq: number; kind: 'undo' | 'redo' } | null>(null);
  /** What a slow edit in flight is doing ("Splitting “Birds”…"): shown until it ends. */
  working = $state<string | null>(null);
  /** The current screen's key handler; returns true when it used the command. */
  screenKeys: ((cmd: Command) => boolean) | null = null;
  private toastSeq = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(readonly client: Client) {}

  start(): void {
    const loc = win.location;
    if (loc) {
      this.route = parseRoute(loc.hash);
      win.addEventListener?.('hashchange', () => (this.route = parseRoute(loc.hash)));
    }
    this.unsubscribe = this.client.subscribe((e) => this.onEvent(e));
    void this.refreshStatus();
    void this.refreshHistory();
    void this.refreshGroupSlots();
  }

  stop(): void {
    this.unsubscribe?.();
  }

  onEvent(e: ApiEvent): void {
    if (e.type === 'job') {
      const wasRunning = this.job?.status === 'running';
      this.job = e.job;
      if (e.job.status !== 'running' && wasRunning) {
        if (e.job.status === 'done') this.toast('info', jobDoneText(e.job));
        else if (e.job.status === 'failed') this.toast('error', `${JOB_NAMES[e.job.kind]} failed: ${e.job.error ?? 'unknown error'}`);
        else this.toast('info', `${JOB_NAMES[e.job.kind]} cancelled`);
        this.dataChanged();
        this.libVersion++;
        void this.refreshStatus();
        void this.refreshHistory();
      }
    } else if (e.what === 'groups') this.dataChanged();
    else if (e.what === 'libraries') this.libVersion++;
    else if (e.what === 'history') void this.refreshHistory();
  }

  /** Groups or images changed: screens refetch, and the colours follow. */
  private dataChanged(): void {
    this.dataVersion++;
    void this.refreshGroupSlots();
  }

  private async refreshGroupSlots(): Promise<void> {
    try {
      const { groups } = await this.client.listGroups({});
      this.groupSlots = new Map(groups.map((g) => [g.id, g.color]));
    } catch {
      // Swatches fall back to a colour of the group's id; the screens report errors themselves.
    }
  }

  /** A group's colour (grey for Unsorted, null), as the map shows it. */
  groupCss(groupId: number | null): string {
    return cssColor(groupId === null ? null : (this.groupSlots.get(groupId) ?? groupId));
  }

  async refreshStatus(): Promise<void> {
    try {
      this.status = await this.client.getStatus({});
      this.statusError = null;
      if (this.status.job) this.job = this.status.job;
    } catch (err) {
      this.statusError = message(err);
    }
  }

  async refreshHistory(): Promise<void> {
    try {
      this.history = await this.client.getHistory({});
    } catch {
      /* the status bar shows connection problems */
    }
  }

  go(route: Route, replace = false): void {
    const hash = formatRoute(route);
    const loc = win.location;
    if (loc && loc.hash !== hash) {
      if (replace && win.history) win.history.replaceState(null, '', hash);
      else loc.hash = hash;
    }
    this.route = route;
  }

  back(): void {
    const r = this.route;
    if (r.name === 'image' && r.group !== null) this.go({ name: 'group', id: r.group });
    else if (r.name === 'group' || r.name === 'image') this.go({ name: 'groups' });
  }

  toast(kind: Toast['kind'], text: string, undoId: number | null = null): void {
    const id = ++this.toastSeq;
    this.toasts = [...this.toasts.slice(-3), { id, kind, text, ...(undoId === null ? {} : { undoId }) }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 9000 : 5000);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
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
      this.dataChanged();
      const text = typeof label === 'string' ? label : await label(out);
      if (text) this.toast('info', text, this.history.undoId !== before ? this.history.undoId : null);
      return out;
    } catch (err) {
      if (onError) onError(message(err));
      else this.toast('error', message(err));
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
    this.toast('info', `Undid ${label ?? 'last change'}`);
  }

  async redo(): Promise<void> {
    if (!this.history.canRedo) return;
    const label = this.history.redoLabel;
    await this.act('', () => this.client.redo({}));
    this.lastUndo = { seq: (this.lastUndo?.seq ?? 0) + 1, kind: 'redo' };
    this.toast('info', `Redid ${label ?? 'change'}`);
  }

  ask(d: Omit<Dialog, 'resolve'>): Promise<Record<string, string> | null> {
    return new Promise((resolve) => {
      this.dialog = {
        ...d,
        resolve: (v) => {
          this.dialog = null;
          resolve(v);
        },
      };
    });
  }

  async confirm(title: string, body: string, confirm = 'OK', danger = false): Promise<boolean> {
    return (await this.ask({ title, body, fields: [], confirm, danger })) !== null;
  }
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
