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
import type { GroupSummary, HistoryState, ImageDetail, ImageSummary } from '../../core/shared/contract.js';
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
