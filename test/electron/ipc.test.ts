/** The IPC transport: the contract's methods through `dispatch` (schemas first), sender-checked. */
import { describe, expect, it, vi } from 'vitest';
import { IPC_CHANNEL, IPC_EVENT_CHANNEL, methods } from '../../core/shared/contract.js';
import { DESKTOP_CHANNEL, APP_ENTRY_URL } from '../../electron/constants.js';
import { forwardEvents, registerIpc, type DesktopServices } from '../../electron/ipc.js';
import { isTrustedSender } from '../../electron/security.js';
import { FakeIpcMain, FakeWebContents, hostDouble, senderEvent } from './doubles.js';

const app = senderEvent(APP_ENTRY_URL);
const stranger = senderEvent('https://example.com/');

function setup(desktop?: DesktopServices) {
  const ipc = new FakeIpcMain();
  const host = hostDouble({
    getImage: async () => {
      throw new Error('boom');
    },
  });
  const off = registerIpc(ipc, host, (e) => isTrustedSender(e), desktop);
  return { ipc, host, off };
}

describe('API channel', () => {
  it('registers the contract channel (and only it, without desktop services)', () => {
    const { ipc, off } = setup();
    expect([...ipc.handlers.keys()]).toEqual([IPC_CHANNEL]);
    off();
    expect(ipc.handlers.size).toBe(0);
  });

  it('serves every contract method, with the schema-validated input', async () => {
    const { ipc, host } = setup();
    for (const name of Object.keys(methods)) {
      if (name === 'getImage') continue;
      const input = name === 'renameGroup' ? { groupId: 3, name: '  Beach  ' } : undefined;
      const res = (await ipc.invoke(IPC_CHANNEL, app, name, input)) as { ok: boolean };
      if (!res.ok) continue; // methods whose schema needs fields: checked below
      expect(res).toEqual({ ok: true, value: { method: name } });
    }
    // Defaults applied and strings trimmed by the schema before the handler runs.
    expect(host.calls.find((c) => c.method === 'listGroups')?.input).toEqual({ sort: 'size' });
    expect(host.calls.find((c) => c.method === 'renameGroup')?.input).toEqual({ groupId: 3, name: 'Beach' });
  });

  it('rejects invalid input before any handler runs', async () => {
    const { ipc, host } = setup();
    for (const [method, input] of [
      ['removeLibrary', { id: -1 }],
      ['removeLibrary', { id: '1' }],
      ['addLibrary', { path: '' }],
      ['moveImages', { imageIds: [], to: { groupId: 1 } }],
      ['recluster', { groups: 1 }],
      ['exportGroups', { format: 'exe', out: '/tmp' }],
    ] as const) {
      const res = await ipc.invoke(IPC_CHANNEL, app, method, input);
      expect(res, method).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    }
    expect(host.calls).toEqual([]);
  });

  it('answers unknown or non-string methods with an error, never a lookup on the handlers object', async () => {
    const { ipc, host } = setup();
    expect(await ipc.invoke(IPC_CHANNEL, app, 'constructor', {})).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await ipc.invoke(IPC_CHANNEL, app, '__proto__', {})).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await ipc.invoke(IPC_CHANNEL, app, { toString: () => 'getStatus' }, {})).toMatchObject({
      ok: false,
      error: { code: 'invalid-input' },
    });
    expect(host.calls).toEqual([]);
  });

  it('maps a handler failure to an internal error body', async () => {
    const { ipc } = setup();
    expect(await ipc.invoke(IPC_CHANNEL, app, 'getImage', { id: 1 })).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
  });

  it('refuses a sender that is not the app page (and runs nothing)', async () => {
    const { ipc, host } = setup();
    await expect(ipc.invoke(IPC_CHANNEL, stranger, 'getStatus', {})).rejects.toThrow(/refused/);
    await expect(ipc.invoke(IPC_CHANNEL, senderEvent(APP_ENTRY_URL, {}), 'getStatus', {})).rejects.toThrow(/refused/);
    expect(host.calls).toEqual([]);
  });
});

describe('desktop channel', () => {
  function desktopDouble(): DesktopServices & { shown: string[]; opened: string[] } {
    const shown: string[] = [];
    const opened: string[] = [];
    return {
      shown,
      opened,
      pickFolder: vi.fn(async () => '/photos/2024'),
      showItemInFolder: (p) => void shown.push(p),
      openPath: async (p) => (opened.push(p), ''),
    };
  }

  it('picks a folder with the native dialog', async () => {
    const desktop = desktopDouble();
    const { ipc } = setup(desktop);
    expect(await ipc.invoke(DESKTOP_CHANNEL, app, 'pickFolder', {})).toEqual({ ok: true, value: '/photos/2024' });
  });

  it('reveals and opens files by image id only, through the host', async () => {
    const desktop = desktopDouble();
    const { ipc, host } = setup(desktop);
    host.files.set('image/7', '/photos/a.jpg');
    host.files.set('image/8', '/photos/evil.exe');
    expect(await ipc.invoke(DESKTOP_CHANNEL, app, 'revealInFolder', { imageId: 7 })).toEqual({ ok: true, value: null });
    expect(await ipc.invoke(DESKTOP_CHANNEL, app, 'openWithDefaultApp', { imageId: 7 })).toEqual({ ok: true, value: null });
    expect(desktop.shown).toEqual(['/photos/a.jpg']);
    expect(desktop.opened).toEqual(['/photos/a.jpg']);
    // Unknown id, a path instead of an id, extra keys, a non-image file: refused.
    expect(await ipc.invoke(DESKTOP_CHANNEL, app, 'openWithDefaultApp', { imageId: 9 })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    expect(await ipc.invoke(DESKTOP_CHANNEL, app, 'openWithDefaultApp', { path: '/bin/sh' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-input' },
    });
    expect(await ipc.invoke(DESKTOP_CHANNEL, app, 'revealInFolder', { imageId: 7, path: '/bin/sh' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-input' },
    });
    expect(await ipc.invoke(DESKTOP_CHANNEL, app, 'openWithDefaultApp', { imageId: 8 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-input' },
    });
    expect(await ipc.invoke(DESKTOP_CHANNEL, app, 'openExternal', { url: 'https://x' })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    expect(desktop.opened).toEqual(['/photos/a.jpg']);
  });

  it('refuses other senders', async () => {
    const desktop = desktopDouble();
    const { ipc } = setup(desktop);
    await expect(ipc.invoke(DESKTOP_CHANNEL, stranger, 'pickFolder', {})).rejects.toThrow(/refused/);
    expect(desktop.pickFolder).not.toHaveBeenCalled();
  });
});

describe('events', () => {
  it('forwards host events to live windows on the event channel', () => {
    const host = hostDouble();
    const live = new FakeWebContents();
    const dead = new FakeWebContents();
    dead.destroyed = true;
    const off = forwardEvents(host, () => [live, dead]);
    host.emit({ type: 'changed', what: 'groups' });
    expect(live.sent).toEqual([{ channel: IPC_EVENT_CHANNEL, args: [{ type: 'changed', what: 'groups' }] }]);
    expect(dead.sent).toEqual([]);
    off();
    host.emit({ type: 'changed', what: 'history' });
    expect(live.sent).toHaveLength(1);
  });
});
