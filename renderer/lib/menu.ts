/**
 * The application menu's commands (Electron sends them; see electron/menu.ts), carried out the
 * way the page's own buttons and keys do them, so either path behaves the same.
 */
import type { MenuCommand } from '../../core/shared/client.js';
import { addFolder, groupActions } from './actions.js';
import type { App } from './state/app.js';
import { message } from './format.js';

export async function runMenuCommand(app: App, command: MenuCommand): Promise<void> {
  // A dialog is waiting for an answer: like keys, menu commands wait until it is closed.
  if (app.dialogs.dialog) return;
  switch (command) {
    case 'undo':
      return app.edits.undo();
    case 'redo':
      return app.edits.redo();
    case 'shortcuts':
      app.dialogs.showHelp = true;
      return;
    case 'find':
      app.navigation.go({ name: 'groups' });
      app.dialogs.focusSearch = true;
      return;
    case 'export':
      if (app.session.status?.hasRun) app.dialogs.showExport = true;
      else app.notices.toast('info', 'Nothing to export yet: add a folder and group it first.');
      return;
    case 'regroup': {
      if (!app.session.status?.hasRun) return app.notices.toast('info', 'Nothing to regroup yet: add a folder first.');
      if (app.session.job?.status === 'running') return app.notices.toast('info', 'Grouping is already running.');
      let current = 0;
      try {
        current = (await app.client.listGroups({})).groups.length;
      } catch (err) {
        return app.notices.toast('error', message(err));
      }
      app.navigation.go({ name: 'groups' });
      await groupActions(app).recluster(current || 10);
      return;
    }
    case 'add-folder': {
      const picked = await app.client.desktop?.pickFolder?.();
      if (!picked) return;
      app.navigation.go({ name: 'libraries' });
      await addFolder(app, picked);
      return;
    }
    default: {
      const unknown: never = command;
      app.notices.toast('error', `Unknown menu command: ${String(unknown)}`);
    }
  }
}
