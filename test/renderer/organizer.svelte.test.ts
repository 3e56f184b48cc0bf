// @vitest-environment jsdom
/**
 * The photo organizer's defects, each pinned by a component test with a fake Client (issue 21):
 * a text field editing a value opens with it selected, the number keys stay with their group,
 * Review after a Split, an emptied group, the model-loading phase, "yours" instead of 100%.
 */
import { render, screen } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import type { Client } from '../../core/shared/client.js';
import type { GroupSummary, HistoryState, ImageDetail, ImageSummary, JobState } from '../../core/shared/contract.js';
import { backendText } from '../../renderer/lib/format.js';
import { appContext, createApp } from '../../renderer/lib/state/app.js';
import { groupActions } from '../../renderer/lib/actions.js';
import DialogHost from '../../renderer/components/DialogHost.svelte';

(globalThis as { ResizeObserver?: unknown }).ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

interface Input {
  value: string;
  selectionStart: number | null;
  selectionEnd: number | null;
}
const doc = globalThis as unknown as { document: { activeElement: unknown } };

const H: HistoryState = { canUndo: true, canRedo: false, undoId: 1, undoLabel: 'x', redoLabel: null };

export function organizerClient(groups: GroupSummary[], images: ImageSummary[] = []) {
  const c = {
    subscribe: () => () => {},
    thumbnailUrl: (id: number) => `thumb/${id}`,
    imageUrl: (id: number) => `image/${id}`,
    getStatus: vi.fn(async () => ({ version: 't', dbPath: 'x', backend: null, job: null, unsortedThreshold: 0.6, hasRun: true })),
    getHistory: vi.fn(async () => H),
    listGroups: vi.fn(async () => ({ groups, unsortedCount: 0, ungroupedCount: 0, unsortedThreshold: 0.6 })),
    listGroupImages: vi.fn(async () => ({ items: images, total: images.length })),
    getImage: vi.fn(async ({ id }: { id: number }): Promise<ImageDetail> => ({ ...images.find((i) => i.id === id)!, path: `/p/${id}.jpg`, size: 1, mtime: '', camera: null, groupName: null, neighbours: [], suggestions: [] })),
    renameGroup: vi.fn(async () => H),
    mergeGroups: vi.fn(async () => ({ ...H, groupId: 1 })),
    moveImages: vi.fn(async () => ({ ...H, groupId: 1 })),
  };
  return c as unknown as Client & typeof c;
}

const group = (id: number, name: string, count: number, userNamed = false): GroupSummary => ({ id, name, userNamed, color: id, count, meanConfidence: 0.8, typicalImageIds: [] });

describe('defect 1: a text field that edits an existing value opens with it selected', () => {
  it('Rename: the current name is selected, so typing replaces it', async () => {
    const client = organizerClient([group(2, 'Group 2', 5)]);
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    void groupActions(app).rename({ id: 2, name: 'Group 2' });
    const input = (await screen.findByRole('textbox')) as unknown as Input;
    await tick();
    expect(doc.document.activeElement).toBe(input);
    expect([input.selectionStart, input.selectionEnd]).toEqual([0, 'Group 2'.length]);
  });

  it('Merge: the proposed name is selected too', async () => {
    const client = organizerClient([group(1, 'Tools', 5, true), group(2, 'Group 3', 9)]);
    const app = createApp(client);
    render(DialogHost, { context: appContext(app) });
    void groupActions(app).merge([1, 2], [group(1, 'Tools', 5, true), group(2, 'Group 3', 9)]);
    const input = (await screen.findByRole('textbox')) as unknown as Input;
    await tick();
    expect(input.selectionEnd! - input.selectionStart!).toBe(input.value.length);
  });
});

describe('defect 8: progress while the model loads, epochs, CPU not wasm', () => {
  it('shows "Loading the model…" as its own phase, the clustering epochs with their unit, and the device as CPU', async () => {
    const { default: JobProgress } = await import('../../renderer/components/JobProgress.svelte');
    const job = (phases: JobState['phases'], phase: JobState['phase']): JobState => ({ id: 'j', kind: 'cluster', status: 'running', phase, phases, startedAt: '' });
    const p = (name: JobState['phases'][number]['name'], done: number, total: number | null) => ({ name, done, total, rate: null, etaSeconds: null });
    const { container, rerender } = render(JobProgress, { job: job([p('scan', 143, null), p('check', 143, 143), p('model', 0, null)], 'model') });
    const current = () => container.querySelector('li.current')!.textContent!.replace(/\s+/g, ' ').trim();
    expect(current()).toBe('Loading the model…');
    await rerender({ job: job([p('scan', 143, null), p('check', 143, 143), p('model', 0, null), p('embed', 143, 143), p('train', 1, 30)], 'train') });
    expect(current()).toContain('1 / 30 epochs');
    expect(backendText({ choice: 'wasm', device: 'CPU (WebAssembly SIMD, 1 thread per worker)' })).toBe('CPU');
    expect(backendText({ choice: 'tfjs-node-gpu', device: 'GPU (CUDA, tfjs-node-gpu)' })).toBe('GPU');
  });
});

describe('defect 10: what the user placed reads "yours", not "100% sure"', () => {
  it('a group whose images the user placed, and a moved image', async () => {
    const { default: Groups } = await import('../../renderer/screens/Groups.svelte');
    const mine = { ...group(7, 'Mom', 3, true), pinned: 3, meanConfidence: 0 };
    const client = organizerClient([group(1, 'Birds', 10), mine]);
    const { container } = render(Groups, { context: appContext(createApp(client)) });
    await screen.findByText('Mom');
    expect(container.querySelector('.gcard[data-group-id="7"] .stats')!.textContent).toContain('yours');
    expect(container.querySelector('.gcard[data-group-id="7"] .stats')!.textContent).not.toContain('%');
    expect(container.querySelector('.gcard[data-group-id="1"] .stats')!.textContent).toContain('80% sure');
  });
});
