/**
 * The application menu's commands (Electron sends them; see electron/menu.ts), carried out the
 * way the page's own buttons and keys do them, so either path behaves the same.
 */
import type { MenuCommand } from '../../core/shared/client.js';
import { addFolder, groupActions } from './actions.js';
import { message, type AppState } from './app.svelte.js';

export async function runMenuCommand(app: AppState, command: MenuCommand): Promise<void> {
  // A dialog is waiting for an answer: like keys, menu commands wait until it is closed.
  if (app.dialog) return;
  switch (command) {
    case 'undo':
      return app.undo();
    case 'redo':
      return app.redo();
    case 'shortcuts':
      app.showHelp = true;
      return;
    case 'find':
      app.go({ name: 'groups' });
      app.focusSearch = true;
      return;
    case 'export':
      if (app.status?.hasRun) app.showExport = true;
      else app.toast('info', 'Nothing to export yet: add a folder and group it first.');
      return;
    case 'regroup': {
      if (!app.status?.hasRun) return app.toast('info', 'Nothing to regroup yet: add a folder first.');
      if (app.job?.status === 'running') return app.toast('info', 'Grouping is already running.');
      let current = 0;
      try {
        current = (await app.client.listGroups({})).groups.length;
      } catch (err) {
        return app.toast('error', message(err));
      }
      app.go({ name: 'groups' });
      await groupActions(app).recluster(current || 10);
      return;
    }
    case 'add-folder': {
      const picked = await app.client.desktop?.pickFolder?.();
      if (!picked) return;
      app.go({ name: 'libraries' });
      await addFolder(app, picked);
      return;
    }
    default: {
      const unknown: never = command;
      app.toast('error', `Unknown menu command: ${String(unknown)}`);
    }
  }
}
