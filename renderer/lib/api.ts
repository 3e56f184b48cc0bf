/** Picks the transport: Electron's IPC bridge when present, else HTTP with the page's token. */
import { createClient, httpTransport, ipcTransport, type Client, type IpcBridge } from '../../core/shared/client.js';

function bridge(): IpcBridge | null {
  const w = globalThis as unknown as { constellate?: IpcBridge };
  return w.constellate ?? null;
}

export function makeClient(): Client {
  const b = bridge();
  // The bridge's desktop extras (picker, show in folder, open, menu) ride along with the client.
  if (b) return createClient(ipcTransport(b), b);
  const url = new URL(location.href);
  const token = url.searchParams.get('token') ?? '';
  return createClient(httpTransport(`${url.origin}/`, token));
}
