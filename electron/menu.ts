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

/** A click handler that sends `command` to the page. */
type Send = (command: MenuCommand) => () => void;

/** The menu bar, left to right; the app's own menu (first) on macOS only. */
export function buildMenuTemplate(deps: MenuDeps): MenuItemConstructorOptions[] {
  const mac = deps.platform === 'darwin';
  const send: Send = (command) => () => deps.send(command);
  return [
    ...(mac ? [appMenu(deps.appName)] : []),
    fileMenu(mac, send),
    editMenu(mac, send),
    viewMenu(deps.isDev),
    windowMenu(mac),
    helpMenu(mac, send),
  ];
}

/** The app's own menu (macOS only). */
function appMenu(appName: string): MenuItemConstructorOptions {
  return {
    label: appName,
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
  };
}

function fileMenu(mac: boolean, send: Send): MenuItemConstructorOptions {
  return {
    label: 'File',
    submenu: [
      { id: 'add-folder', label: 'Add Folder…', accelerator: 'CmdOrCtrl+O', click: send('add-folder') },
      { id: 'export', label: 'Export…', accelerator: 'CmdOrCtrl+E', click: send('export') },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  };
}

function editMenu(mac: boolean, send: Send): MenuItemConstructorOptions {
  return {
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
  };
}

/** Reload and DevTools in development only. */
function viewMenu(isDev: boolean): MenuItemConstructorOptions {
  return {
    label: 'View',
    submenu: [
      ...(isDev
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
  };
}

function windowMenu(mac: boolean): MenuItemConstructorOptions {
  return {
    role: 'windowMenu',
    submenu: mac
      ? [{ role: 'minimize' }, { role: 'zoom' }, { type: 'separator' }, { role: 'front' }]
      : [{ role: 'minimize' }, { role: 'close' }],
  };
}

function helpMenu(mac: boolean, send: Send): MenuItemConstructorOptions {
  return {
    role: 'help',
    submenu: [
      // No accelerator: the page's own key is "?", which a text field must keep.
      { id: 'shortcuts', label: 'Keyboard Shortcuts', click: send('shortcuts') },
      ...(mac ? [] : ([{ type: 'separator' }, { role: 'about' }] satisfies MenuItemConstructorOptions[])),
    ],
  };
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
