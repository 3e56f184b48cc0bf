/** The edit history: undo, redo, and what they would undo and redo. */
import type { ApiHandlers } from '../../shared/contract.js';
import type { ServiceContext } from '../context.js';

export type HistoryHandlers = Pick<ApiHandlers, 'undo' | 'redo' | 'getHistory'>;

export function historyHandlers(ctx: ServiceContext): HistoryHandlers {
  const { store } = ctx;
  return {
    async undo() {
      store.edits.undo();
      ctx.active.invalidate();
      return ctx.edited({});
    },
    async redo() {
      store.edits.redo();
      ctx.active.invalidate();
      return ctx.edited({});
    },
    async getHistory() {
      return ctx.history();
    },
  };
}
