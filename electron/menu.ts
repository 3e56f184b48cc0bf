/**
 * The application menu as a template (built into a Menu by main.ts): standard roles for the
 * platform, the app's own commands, CmdOrCtrl accelerators. Undo/Redo call the API's history
 * (group edits), not the page's text undo.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  addFolder(): void;
  exportGroups(): void;
  undo(): void;
  redo(): void;
  find(): void;
}

export interface MenuDeps {
  platform: NodeJS.Platform;
  /** Reload and DevTools only in development (not packaged). */
  isDev: boolean;
  appName: string;
  actions: MenuActions;
}

export function buildMenuTemplate(deps: MenuDeps): MenuItemConstructorOptions[] {
  const mac = deps.platform === 'darwin';
  const { actions } = deps;
  const template: MenuItemConstructorOptions[] = [];

  if (mac) {
    template.push({
      label: deps.appName,
      submenu: [
        { role: 'about' },
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    });
  }

  template.push({
    label: 'File',
    submenu: [
      { id: 'add-folder', label: 'Add Folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.addFolder() },
      { id: 'export', label: 'Export…', accelerator: 'CmdOrCtrl+E', click: () => actions.exportGroups() },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  });

  template.push({
    label: 'Edit',
    submenu: [
      { id: 'undo', label: 'Undo', accelerator: 'CmdOrCtrl+Z', click: () => actions.undo() },
      { id: 'redo', label: 'Redo', accelerator: mac ? 'Shift+CmdOrCtrl+Z' : 'CmdOrCtrl+Y', click: () => actions.redo() },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
      { type: 'separator' },
      { id: 'find', label: 'Find Group…', accelerator: 'CmdOrCtrl+F', click: () => actions.find() },
    ],
  });

  template.push({
    label: 'View',
    submenu: [
      ...(deps.isDev
        ? ([{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }] satisfies MenuItemConstructorOptions[])
        : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  });

  template.push({
    role: 'windowMenu',
    submenu: mac
      ? [{ role: 'minimize' }, { role: 'zoom' }, { type: 'separator' }, { role: 'front' }]
      : [{ role: 'minimize' }, { role: 'close' }],
  });

  template.push({
    role: 'help',
    submenu: mac ? [] : [{ role: 'about' }],
  });

  return template;
}

/** Every item in a template, depth first (for tests and lookups by id). */
export function flattenMenu(template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  const out: MenuItemConstructorOptions[] = [];
  const walk = (items: MenuItemConstructorOptions[]) => {
    for (const item of items) {
      out.push(item);
      if (Array.isArray(item.submenu)) walk(item.submenu);
    }
  };
  walk(template);
  return out;
}
