/** The application menu: standard roles per platform, CmdOrCtrl accelerators, API undo/redo. */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { buildMenuTemplate, flattenMenu, type MenuActions } from '../../electron/menu.js';

function actions(): MenuActions {
  return { addFolder: vi.fn(), exportGroups: vi.fn(), undo: vi.fn(), redo: vi.fn(), find: vi.fn() };
}
const build = (platform: NodeJS.Platform, isDev = false, a = actions()) => ({ a, items: buildMenuTemplate({ platform, isDev, appName: 'Constellate', actions: a }) });
const byId = (items: MenuItemConstructorOptions[], id: string) => flattenMenu(items).find((i) => i.id === id)!;
const roles = (items: MenuItemConstructorOptions[]) => flattenMenu(items).map((i) => i.role).filter(Boolean);
const click = (item: MenuItemConstructorOptions) => (item.click as () => void)();

describe('application menu', () => {
  it('has File, Edit, View, Window, Help (and the app menu first on macOS)', () => {
    expect(build('linux').items.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'View', 'windowMenu', 'help']);
    expect(build('win32').items.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'View', 'windowMenu', 'help']);
    const mac = build('darwin').items;
    expect(mac.map((m) => m.label ?? m.role)).toEqual(['Constellate', 'File', 'Edit', 'View', 'windowMenu', 'help']);
    expect(roles([mac[0]!])).toEqual(['about', 'services', 'hide', 'hideOthers', 'unhide', 'quit']);
  });

  it('File has Add Folder… and Export… on CmdOrCtrl accelerators, calling the app', () => {
    const { a, items } = build('linux');
    const add = byId(items, 'add-folder');
    const exp = byId(items, 'export');
    expect([add.label, add.accelerator]).toEqual(['Add Folder…', 'CmdOrCtrl+O']);
    expect([exp.label, exp.accelerator]).toEqual(['Export…', 'CmdOrCtrl+E']);
    click(add);
    click(exp);
    expect(a.addFolder).toHaveBeenCalledOnce();
    expect(a.exportGroups).toHaveBeenCalledOnce();
    expect(roles([items[0]!])).toEqual(['quit']);
    expect(roles([build('darwin').items[1]!])).toEqual(['close']);
  });

  it('Undo/Redo call the API history, not the page’s undo role', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const { a, items } = build(platform);
      const undo = byId(items, 'undo');
      const redo = byId(items, 'redo');
      expect(undo.role).toBeUndefined();
      expect(redo.role).toBeUndefined();
      expect(undo.accelerator).toBe('CmdOrCtrl+Z');
      expect(redo.accelerator).toBe(platform === 'darwin' ? 'Shift+CmdOrCtrl+Z' : 'CmdOrCtrl+Y');
      click(undo);
      click(redo);
      expect(a.undo).toHaveBeenCalledOnce();
      expect(a.redo).toHaveBeenCalledOnce();
      expect(roles(items)).not.toContain('undo');
      expect(roles([items.find((m) => m.label === 'Edit')!])).toEqual(['cut', 'copy', 'paste', 'selectAll']);
    }
  });

  it('View has reload and DevTools only in development, plus zoom and full screen', () => {
    const view = (isDev: boolean) => roles([build('linux', isDev).items.find((m) => m.label === 'View')!]);
    expect(view(false)).toEqual(['resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen']);
    expect(view(true)).toEqual(['reload', 'forceReload', 'toggleDevTools', 'resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen']);
  });

  it('every custom accelerator uses CmdOrCtrl', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      for (const item of flattenMenu(build(platform).items)) {
        if (item.accelerator) expect(String(item.accelerator)).toMatch(/CmdOrCtrl\+/);
      }
    }
  });
});
