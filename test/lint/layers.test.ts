/**
 * The layer rules of eslint.config.js at work: an import that runs upward, or closes a circle,
 * fails `npm run lint`; one that runs down passes. The files are linted as text under the paths
 * given (nothing is written); the imports they name are real files, which the rules resolve.
 */
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

let eslint: ESLint;

beforeAll(() => {
  // The project's own config; type information is not needed for import rules.
  eslint = new ESLint({
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false, project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
    },
  });
});

async function errorsOf(rule: string, filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === rule).map((m) => m.message);
}
const layerErrors = (filePath: string, code: string) => errorsOf('boundaries/dependencies', filePath, code);

describe('layers', () => {
  it('refuses an upward import: the store reaching for a job, a session, the API', async () => {
    const errors = await layerErrors(
      'core/store/upward.ts',
      `import { runClusterJob } from '../jobs/grouping/clusterJob.js';
import { openSession } from '../app/session.js';
import { createService } from '../api/service.js';
export const all = [runClusterJob, openSession, createService];
`,
    );
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/core\/store \(store\) may import only store, library/);
  });

  it('refuses the old wrong-way imports: jobs from the API, the embed pool from jobs, the API from the CLI', async () => {
    expect(
      await layerErrors(
        'core/jobs/grouping/x.ts',
        `import { createService } from '../../api/service.js';\nexport const s = createService;\n`,
      ),
    ).toHaveLength(1);
    expect(
      await layerErrors(
        'core/embed/x.ts',
        `import { indexLibraries } from '../jobs/indexing/indexLibrary.js';\nexport const i = indexLibraries;\n`,
      ),
    ).toHaveLength(1);
    expect(await layerErrors('core/api/x.ts', `import { main } from '../cli/main.js';\nexport const m = main;\n`)).toHaveLength(1);
  });

  it('checks dynamic imports and the renderer, .svelte files included', async () => {
    expect(await layerErrors('electron/x.ts', `export const load = () => import('../core/cli/main.js');\n`)).toHaveLength(1);
    expect(
      await layerErrors('renderer/lib/x.ts', `import { openStore } from '../../core/store/index.js';\nexport const o = openStore;\n`),
    ).toHaveLength(1);
    expect(
      await layerErrors(
        'renderer/components/X.svelte',
        `<script lang="ts">\n  import { openStore } from '../../core/store/index.js';\n  const o = openStore;\n</script>\n<p>{String(o)}</p>\n`,
      ),
    ).toHaveLength(1);
  });

  it('refuses a circle inside a layer: export/files.ts importing export.ts, which imports it', async () => {
    const code = `import { exportRecords } from './export.js';\nexport const e = exportRecords;\n`;
    expect(await errorsOf('import-x/no-cycle', 'core/jobs/export/files.ts', code)).toEqual(['Dependency cycle detected']);
    // The same import from a module export.ts does not import is no circle.
    expect(await errorsOf('import-x/no-cycle', 'core/jobs/export/elsewhere.ts', code)).toEqual([]);
  });

  it('lets imports run down', async () => {
    const down = `import { openStore } from '../store/index.js';
import { ApiError } from '../shared/client.js';
import { startWorker } from '../runtime/workers.js';
import { openSession } from '../app/session.js';
import { runClusterJob } from '../jobs/grouping/clusterJob.js';
export const all = [openStore, ApiError, startWorker, openSession, runClusterJob];
`;
    expect(await layerErrors('core/api/down.ts', down)).toEqual([]);
    expect(
      await layerErrors('renderer/lib/x.ts', `import { ApiError } from '../../core/shared/client.js';\nexport const e = ApiError;\n`),
    ).toEqual([]);
  });
});
