/** `constellate serve`: the UI in a browser, on 127.0.0.1 with a per-launch token. */
import { existsSync } from 'node:fs';
import { startHttpServer, type HttpServer } from '../api/http.js';
import { createService } from '../api/service.js';
import { demoFolder, rendererDir } from '../app/paths.js';
import { openSession } from '../app/session.js';

export async function serveCommand(opts: { db?: string; port: number; demo?: boolean }): Promise<void> {
  const session = openSession(opts.db);
  const service = createService({ store: session.store, watch: true });
  const staticDir = rendererDir();
  if (!existsSync(staticDir)) console.error('constellate: the UI is not built (run `npm run build`); serving the API only');
  let server: HttpServer;
  try {
    server = await startHttpServer(service, { port: opts.port, staticDir });
  } catch (err) {
    await service.close();
    session.close();
    // A raw "listen EADDRINUSE: address already in use 127.0.0.1:N" does not say what to do.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new Error(`port ${opts.port} is in use: choose another with --port N, or omit --port to use a free one`);
    if (code === 'EACCES')
      throw new Error(`not allowed to use port ${opts.port}: choose one above 1023 with --port N, or omit --port to use a free one`);
    throw err;
  }
  // The demo only once the server is up: a refused port must not leave a library behind.
  if (opts.demo && session.store.libraries.list().length === 0) {
    const lib = session.store.libraries.add(demoFolder());
    console.error(`constellate: added the built-in demo images (${lib.rootPath}); clustering them now`);
    await service.handlers.startClustering({ libraryIds: [lib.id] });
  }
  console.log(`Constellate is running at ${server.url}`);
  console.log('(only this computer can reach it; the link carries a one-time access token; Ctrl-C stops it)');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await service.close();
  session.close();
}
