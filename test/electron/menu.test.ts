/** The application menu: standard roles per platform, CmdOrCtrl accelerators, commands sent to the page. */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { MENU_COMMANDS, type MenuCommand } from '../../electron/constants.js';
import { buildMenuTemplate, flattenMenu } from '../../electron/menu.js';

const build = (platform: NodeJS.Platform, isDev = false) => {
  const sent: MenuCommand[] = [];
  return { sent, items: buildMenuTemplate({ platform, isDev, appName: 'Constellate', send: (c) => void sent.push(c) }) };
};
const byId = (items: MenuItemConstructorOptions[], id: string) => flattenMenu(items).find((i) => i.id === id)!;
const roles = (items: MenuItemConstructorOptions[]) =>
  flattenMenu(items)
    .map((i) => i.role)
    .filter(Boolean);
const click = (item: MenuItemConstructorOptions) => (item.click as () => void)();

describe('application menu', () => {
  it('has File, Edit, View, Window, Help (and the app menu first on macOS)', () => {
    expect(build('linux').items.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'View', 'windowMenu', 'help']);
    expect(build('win32').items.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'View', 'windowMenu', 'help']);
    const mac = build('darwin').items;
    expect(mac.map((m) => m.label ?? m.role)).toEqual(['Constellate', 'File', 'Edit', 'View', 'windowMenu', 'help']);
    expect(roles([mac[0]!])).toEqual(['about', 'services', 'hide', 'hideOthers', 'unhide', 'quit']);
  });

  it('File has Add Folder… and Export… on CmdOrCtrl accelerators, sent to the page', () => {
    const { sent, items } = build('linux');
    const add = byId(items, 'add-folder');
    const exp = byId(items, 'export');
    expect([add.label, add.accelerator, add.registerAccelerator]).toEqual(['Add Folder…', 'CmdOrCtrl+O', undefined]);
    expect([exp.label, exp.accelerator, exp.registerAccelerator]).toEqual(['Export…', 'CmdOrCtrl+E', undefined]);
    click(add);
    click(exp);
    expect(sent).toEqual(['add-folder', 'export']);
    expect(roles([items[0]!])).toEqual(['quit']);
    expect(roles([build('darwin').items[1]!])).toEqual(['close']);
  });

  it('Undo/Redo are the page’s history commands, not the undo role; the page owns their keys', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const { sent, items } = build(platform);
      const undo = byId(items, 'undo');
      const redo = byId(items, 'redo');
      expect(undo.role).toBeUndefined();
      expect(redo.role).toBeUndefined();
      expect(undo.accelerator).toBe('CmdOrCtrl+Z');
      expect(redo.accelerator).toBe(platform === 'darwin' ? 'Shift+CmdOrCtrl+Z' : 'CmdOrCtrl+Y');
      // Shown, not registered: a registered one would also fire for the key the page handles.
      expect([undo.registerAccelerator, redo.registerAccelerator]).toEqual([false, false]);
      click(undo);
      click(redo);
      expect(sent).toEqual(['undo', 'redo']);
      expect(roles(items)).not.toContain('undo');
      expect(roles([items.find((m) => m.label === 'Edit')!])).toEqual(['cut', 'copy', 'paste', 'selectAll']);
    }
  });

  it('View has reload and DevTools only in development, plus zoom and full screen', () => {
    const view = (isDev: boolean) => roles([build('linux', isDev).items.find((m) => m.label === 'View')!]);
    expect(view(false)).toEqual(['resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen']);
    expect(view(true)).toEqual(['reload', 'forceReload', 'toggleDevTools', 'resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen']);
  });

  it('Find Group… and Regroup Everything… in Edit, Keyboard Shortcuts in Help', () => {
    for (const platform of ['linux', 'darwin'] as const) {
      const { sent, items } = build(platform);
      const edit = flattenMenu([items.find((m) => m.label === 'Edit')!]);
      const help = flattenMenu([items.find((m) => m.role === 'help')!]);
      click(edit.find((i) => i.id === 'find')!);
      click(edit.find((i) => i.id === 'regroup')!);
      click(help.find((i) => i.id === 'shortcuts')!);
      expect(sent).toEqual(['find', 'regroup', 'shortcuts']);
      expect(roles([items.find((m) => m.role === 'help')!])).toEqual(platform === 'darwin' ? ['help'] : ['help', 'about']);
    }
  });

  it('every command the page handles has a menu item, and every item sends one of them', () => {
    const { sent, items } = build('linux');
    for (const item of flattenMenu(items)) if (item.click) click(item);
    expect([...sent].sort()).toEqual([...MENU_COMMANDS].sort());
  });

  it('every custom accelerator uses CmdOrCtrl', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      for (const item of flattenMenu(build(platform).items)) {
        if (item.accelerator) expect(String(item.accelerator)).toMatch(/CmdOrCtrl\+/);
      }
    }
  });
});
