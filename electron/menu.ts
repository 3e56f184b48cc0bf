/**
 * The application menu as a template (built into a Menu by app.ts): standard roles for the
 * platform, the app's own commands, CmdOrCtrl accelerators. The app's commands are sent to the
 * page (`MenuCommand`), which runs them exactly as its own buttons and keys do: Undo/Redo undo
 * group edits through the API's history with the page's toast, not the page's text undo.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from './constants.js';

export interface MenuDeps {
  platform: NodeJS.Platform;
  /** Reload and DevTools only in development (not packaged). */
  isDev: boolean;
  appName: string;
  /** Sends a command to the page. */
  send(command: MenuCommand): void;
}

export function buildMenuTemplate(deps: MenuDeps): MenuItemConstructorOptions[] {
  const mac = deps.platform === 'darwin';
  const send = (command: MenuCommand) => () => deps.send(command);
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
      { id: 'add-folder', label: 'Add Folder…', accelerator: 'CmdOrCtrl+O', click: send('add-folder') },
      { id: 'export', label: 'Export…', accelerator: 'CmdOrCtrl+E', click: send('export') },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  });

  template.push({
    label: 'Edit',
    submenu: [
      // The page owns these keys (registerAccelerator: false; the menu only shows them): it
      // leaves them to a text field being typed in, and one key press must not undo twice,
      // once in the page and once here.
      { id: 'undo', label: 'Undo', accelerator: 'CmdOrCtrl+Z', registerAccelerator: false, click: send('undo') },
      {
        id: 'redo',
        label: 'Redo',
        accelerator: mac ? 'Shift+CmdOrCtrl+Z' : 'CmdOrCtrl+Y',
        registerAccelerator: false,
        click: send('redo'),
      },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
      { type: 'separator' },
      { id: 'find', label: 'Find Group…', accelerator: 'CmdOrCtrl+F', click: send('find') },
      { id: 'regroup', label: 'Regroup Everything…', click: send('regroup') },
    ],
  });

  template.push({
    label: 'View',
    submenu: [
      ...(deps.isDev
        ? ([
            { role: 'reload' },
            { role: 'forceReload' },
            { role: 'toggleDevTools' },
            { type: 'separator' },
          ] satisfies MenuItemConstructorOptions[])
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
    submenu: [
      // No accelerator: the page's own key is "?", which a text field must keep.
      { id: 'shortcuts', label: 'Keyboard Shortcuts', click: send('shortcuts') },
      ...(mac ? [] : ([{ type: 'separator' }, { role: 'about' }] satisfies MenuItemConstructorOptions[])),
    ],
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
