// The field browser's summary of messages: which fields they have, how
// often, and their most frequent values.

import type { Rec } from './charts';

export interface FieldSummary {
  name: string;
  count: number;
  distinct: number;
  /** true when more distinct values exist than were counted */
  moreValues: boolean;
  top: { value: string; count: number }[];
}

/** HIDDEN_FIELDS are not offered in the field browser: they are the message itself or bookkeeping. */
export const HIDDEN_FIELDS = new Set(['_raw', '_messageid', '_messagetime', '_receipttime', '_size', '_format', '_messagecount']);

/** METADATA_FIELDS are shown in every message's header. */
export const METADATA_FIELDS = ['_sourcecategory', '_sourcehost', '_sourcename'];

const MAX_TRACKED = 1000;
const MAX_VALUE_LEN = 200;

/** summarizeFields counts fields and their top values over messages. */
export function summarizeFields(messages: Rec[], topN = 10): FieldSummary[] {
  const counts = new Map<string, number>();
  const values = new Map<string, Map<string, number>>();
  const overflow = new Set<string>();
  for (const m of messages) {
    for (const name in m) {
      if (HIDDEN_FIELDS.has(name)) continue;
      const v = m[name];
      if (v === '' || v === undefined) continue;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      let vs = values.get(name);
      if (!vs) values.set(name, (vs = new Map()));
      const key = v.length > MAX_VALUE_LEN ? v.slice(0, MAX_VALUE_LEN) : v;
      const c = vs.get(key);
      if (c !== undefined) vs.set(key, c + 1);
      else if (vs.size < MAX_TRACKED) vs.set(key, 1);
      else overflow.add(name);
    }
  }
  const out: FieldSummary[] = [];
  for (const [name, count] of counts) {
    const vs = values.get(name)!;
    const top = [...vs.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, topN)
      .map(([value, count]) => ({ value, count }));
    out.push({ name, count, distinct: vs.size, moreValues: overflow.has(name), top });
  }
  // Source metadata first, then by how many messages have the field.
  const rank = (n: string) => (METADATA_FIELDS.includes(n) ? 0 : n.startsWith('_') ? 1 : 2);
  out.sort((a, b) => rank(a.name) - rank(b.name) || b.count - a.count || a.name.localeCompare(b.name));
  return out;
}
