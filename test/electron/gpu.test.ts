/** Backend selection: tfjs-node-gpu -> tfjs-node -> wasm -> cpu, with each one missing; the app's start-up engine probe. */
import { describe, expect, it } from 'vitest';
import { BACKEND_ORDER, initTf, type BackendChoice, type BackendLoader } from '../../core/embed/backend.js';
import { describeBackend, probeBackendInWorker, selectBackend } from '../../electron/gpu.js';

/** A loader where `missing` backends fail the way an absent optional package fails. */
function loaderWithout(missing: BackendChoice[]): BackendLoader {
  return async (choice) => {
    if (missing.includes(choice))
      throw Object.assign(new Error(`Cannot find package '@tensorflow/${choice}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    return { tfBackend: choice === 'wasm' || choice === 'cpu' ? choice : 'tensorflow', device: `device of ${choice}` };
  };
}

describe('backend choice with each backend missing', () => {
  const cases: Array<[BackendChoice[], BackendChoice]> = [
    [[], 'tfjs-node-gpu'],
    [['tfjs-node-gpu'], 'tfjs-node'],
    [['tfjs-node-gpu', 'tfjs-node'], 'wasm'],
    [['tfjs-node-gpu', 'tfjs-node', 'wasm'], 'cpu'],
    [['tfjs-node'], 'tfjs-node-gpu'],
    [['wasm'], 'tfjs-node-gpu'],
  ];
  for (const [missing, expected] of cases) {
    it(`missing [${missing.join(', ') || 'none'}] -> ${expected}`, async () => {
      const { backend } = await initTf({ loader: loaderWithout(missing) });
      expect(backend.choice).toBe(expected);
      const passedOver = BACKEND_ORDER.slice(0, BACKEND_ORDER.indexOf(expected));
      expect(backend.unavailable).toEqual(passedOver.map((choice) => ({ choice, reason: 'not installed' })));
    });
  }
  it('fails with every reason when none loads', async () => {
    await expect(initTf({ loader: loaderWithout([...BACKEND_ORDER]) })).rejects.toThrow(
      /tfjs-node-gpu: not installed; tfjs-node: not installed; wasm: not installed; cpu: not installed/,
    );
  });
  it('a GPU package that is installed but cannot load (no CUDA) falls through with its reason', async () => {
    const loader: BackendLoader = async (choice) => {
      if (choice === 'tfjs-node-gpu') throw new Error('libcudart.so.11.0: cannot open shared object file\nmore');
      return loaderWithout([])(choice);
    };
    const { backend } = await initTf({ loader });
    expect(backend.choice).toBe('tfjs-node');
    expect(backend.unavailable).toEqual([{ choice: 'tfjs-node-gpu', reason: 'libcudart.so.11.0: cannot open shared object file' }]);
  });
});

describe('selectBackend (main process)', () => {
  it('pins the choice for the job workers and logs the device', async () => {
    const env: NodeJS.ProcessEnv = {};
    const lines: string[] = [];
    const probe = async () => (await initTf({ loader: loaderWithout(['tfjs-node-gpu']) })).backend;
    const info = await selectBackend({ probe, env, log: (l) => lines.push(l) });
    expect(info?.choice).toBe('tfjs-node');
    expect(env.CONSTELLATE_BACKEND).toBe('tfjs-node');
    expect(lines).toEqual(['embedding engine: tfjs-node (device of tfjs-node); passed over tfjs-node-gpu: not installed']);
  });
  it('leaves the choice to the workers when the probe fails', async () => {
    const env: NodeJS.ProcessEnv = {};
    const lines: string[] = [];
    expect(
      await selectBackend({
        probe: async () => {
          throw new Error('no backend');
        },
        env,
        log: (l) => lines.push(l),
      }),
    ).toBeNull();
    expect(env.CONSTELLATE_BACKEND).toBeUndefined();
    expect(lines[0]).toMatch(/no backend/);
  });

  it('the real probe (a worker thread, default engines): ONNX Runtime on the CPU here, CUDA passed over with its reason', async () => {
    const info = await probeBackendInWorker();
    expect(info.choice).toBe('onnx');
    expect(info.device).toMatch(/^CPU \(ONNX Runtime, \d+ threads?\); views in 8 bits$/);
    expect(info.unavailable).toEqual([{ choice: 'onnx/cuda', reason: expect.stringMatching(/provider library is not installed/) }]);
    expect(describeBackend(info)).toMatch(/^embedding engine: onnx \(CPU \(ONNX Runtime/);
  });
});
