/** The notifications in the corner: a few at a time, each gone after a while. */
export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
  /** The edit this notification reports: it offers Undo while that edit is the one Undo undoes. */
  undoId?: number;
}

export class Notices {
  toasts = $state<Toast[]>([]);
  private seq = 0;

  toast(kind: Toast['kind'], text: string, undoId: number | null = null): void {
    const id = ++this.seq;
    this.toasts = [...this.toasts.slice(-3), { id, kind, text, ...(undoId === null ? {} : { undoId }) }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 9000 : 5000);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }
}
