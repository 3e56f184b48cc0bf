/** `npx tsx test/e2e/devServer.ts [images] [groups]`: the UI against the fake host (UI work only). */
import { startHttpServer } from '../../core/api/http.js';
import { createFakeHost } from './fakeHost.js';

const n = Number(process.argv[2] ?? 300);
const k = Number(process.argv[3] ?? 10);
const host = createFakeHost({ images: n, groups: k, mediaDir: '/work/shared/datasets/tuxpaint300' });
const server = await startHttpServer(host, { staticDir: 'dist/renderer', port: Number(process.env['PORT'] ?? 0) });
console.log(server.url);
