/**
 * electron-builder.yml, loaded and validated by electron-builder's own code: app-builder-lib's
 * `getConfig` (its YAML loader) and `validateConfiguration` (ajv against its scheme.json), the
 * same calls `electron-builder` makes before packaging. Nothing is built or downloaded.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));

interface BuilderConfig {
  appId?: string;
  productName?: string;
  files?: Array<string | { filter: string[] }>;
  asar?: boolean;
  asarUnpack?: string[];
  npmRebuild?: boolean;
  electronFuses?: Record<string, boolean>;
  linux?: { target?: string[] };
  mac?: { target?: string[] };
  win?: { target?: string[] };
  [key: string]: unknown;
}
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: null): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, debugLogger: { isEnabled: boolean; add(): void }): Promise<void>;
};
const logger = { isEnabled: false, add() {} };
const load = () => getConfig(root, `${root}electron-builder.yml`, null);

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", async () => {
    await expect(validateConfiguration(await load(), logger)).resolves.toBeUndefined();
  });

  it('the validator does reject a wrong configuration (so the check above means something)', async () => {
    await expect(validateConfiguration({ ...(await load()), nonsense: true }, logger)).rejects.toThrow(/Invalid configuration object/);
    await expect(validateConfiguration({ ...(await load()), electronFuses: { runAsNode: 'maybe' as never } }, logger)).rejects.toThrow(
      /runAsNode should be a boolean/,
    );
  });

  it('names the app and targets Linux (AppImage, deb), macOS (dmg) and Windows (nsis)', async () => {
    const config = await load();
    expect(config.appId).toBe('app.constellate.desktop');
    expect(config.productName).toBe('Constellate');
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.win?.target).toEqual(['nsis']);
  });

  it('packs dist/ and package.json, unpacks native modules and model files from asar, rebuilds natives', async () => {
    const config = await load();
    const files = (config.files ?? []).flatMap((f) => (typeof f === 'string' ? [f] : f.filter));
    expect(files).toEqual(expect.arrayContaining(['dist/electron/**/*', 'dist/core/**/*', 'dist/renderer/**/*', 'package.json']));
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        '**/*.node',
        'node_modules/better-sqlite3/**/*',
        'node_modules/sharp/**/*',
        'node_modules/@img/**/*',
        'node_modules/@tensorflow/tfjs-node/**/*',
        'node_modules/@tensorflow/tfjs-node-gpu/**/*',
        'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
        'node_modules/nsfwjs/dist/models/**/*',
      ]),
    );
    expect(config.npmRebuild).toBe(true);
  });

  it('flips the security fuses (no run-as-node, no NODE_OPTIONS, app only from asar)', async () => {
    expect((await load()).electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
    });
  });

  it('the unpacked paths exist in node_modules (wasm binaries, backbone model, native addons)', () => {
    const wasm = readdirSync(`${root}node_modules/@tensorflow/tfjs-backend-wasm/dist`).filter((f) => f.endsWith('.wasm'));
    expect(wasm.length).toBeGreaterThan(0);
    expect(existsSync(`${root}node_modules/nsfwjs/dist/models/mobilenet_v2_mid/model.min.js`)).toBe(true);
    expect(existsSync(`${root}node_modules/better-sqlite3/build/Release/better_sqlite3.node`)).toBe(true);
    expect(readdirSync(`${root}node_modules/@img`).some((d) => d.startsWith('sharp-'))).toBe(true);
  });
});
