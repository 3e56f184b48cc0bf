/** Picks the transport: Electron's IPC bridge when present, else HTTP with the page's token. */
import { createClient, httpTransport, ipcTransport, type Client, type IpcBridge } from '../../core/api/client.js';

export interface Bridge extends IpcBridge {
  /** Native folder picker (Electron only); null when cancelled. */
  pickFolder?: () => Promise<string | null>;
}

export function bridge(): Bridge | null {
  const w = globalThis as unknown as { constellate?: Bridge };
  return w.constellate ?? null;
}

export function makeClient(): Client {
  const b = bridge();
  if (b) return createClient(ipcTransport(b));
  const url = new URL(location.href);
  const token = url.searchParams.get('token') ?? '';
  return createClient(httpTransport(`${url.origin}/`, token));
}
