/**
 * Suggested names for groups, with a CLIP-like model: zero-shot, as CLIP classifies. Each label
 * of the shipped vocabulary (core/embed/models/vocabulary.ts) was embedded as "a photo of
 * {label}" when the model was added; a group's images are averaged (unit vectors, then the mean)
 * and the label whose prompt is nearest (cosine) is offered. Labels go to groups best match
 * first, each label to one group, so two groups are never offered the same name. A suggestion
 * is only ever shown: the user's names are never touched (accepting one is a rename), and a
 * name a group already has is not offered.
 */
import { unitVector } from '../grouping/textRows.js';

export interface NameSuggestion {
  groupId: number;
  /** The label as a name: its article dropped, capitalised ("a beach" -> "Beach"). */
  name: string;
  label: string;
  /** Cosine between the group's mean image and the label's prompt. */
  score: number;
  /** How far ahead of the group's next-best label (cosine points): small is a guess. */
  margin: number;
}

export function labelAsName(label: string): string {
  const bare = label.replace(/^(a|an|the)\s+/i, '');
  return bare.charAt(0).toUpperCase() + bare.slice(1);
}

/**
 * `groups`: each group's members' unit embeddings' mean (any length: it is normalised here).
 * `names`: labels x dim prompt embeddings, `labels` their labels. Labels whose prompt embeds as
 * nothing (all zeros) are never offered.
 */
export function suggestNames(
  groups: ReadonlyArray<{ groupId: number; mean: Float32Array }>,
  names: Float32Array,
  labels: readonly string[],
  /** Names groups already have (any case): not offered again. */
  inUse: ReadonlySet<string> = new Set(),
): NameSuggestion[] {
  if (labels.length === 0 || groups.length === 0) return [];
  const d = names.length / labels.length;
  if (!Number.isInteger(d)) throw new Error(`${names.length} name values for ${labels.length} labels`);
  const prompts = labels.map((_, j) => unitVector(names.subarray(j * d, (j + 1) * d)));
  const usable = prompts.map((p, j) => p.some((x) => x !== 0) && !inUse.has(labelAsName(labels[j]!).toLowerCase()));
  const scores = groups.map((g) => {
    const u = unitVector(g.mean);
    return prompts.map((p, j) => {
      if (!usable[j]) return -Infinity;
      let s = 0;
      for (let k = 0; k < d; k++) s += u[k]! * p[k]!;
      return s;
    });
  });
  // Best pairs first; each group and each label once.
  const pairs: Array<{ g: number; j: number; s: number }> = [];
  scores.forEach((row, g) => row.forEach((s, j) => Number.isFinite(s) && pairs.push({ g, j, s })));
  pairs.sort((a, b) => b.s - a.s || a.g - b.g || a.j - b.j);
  const taken = new Set<number>();
  const out = new Map<number, NameSuggestion>();
  for (const { g, j, s } of pairs) {
    if (out.has(g) || taken.has(j)) continue;
    taken.add(j);
    const next = Math.max(-Infinity, ...scores[g]!.filter((_, k) => k !== j));
    out.set(g, {
      groupId: groups[g]!.groupId,
      name: labelAsName(labels[j]!),
      label: labels[j]!,
      score: s,
      margin: Number.isFinite(next) ? s - next : 1,
    });
    if (out.size === groups.length) break;
  }
  return groups.flatMap((_, g) => (out.has(g) ? [out.get(g)!] : []));
}
