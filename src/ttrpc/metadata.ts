// Request metadata: the ttrpc KeyValue list seen as a map of key → values (keys as sent;
// the map has no prototype, so hostile keys like "__proto__" are plain entries).
import type { KeyValue } from './messages.js';

export type Metadata = Record<string, string[]>;

export function metadataFromPairs(pairs: KeyValue[]): Metadata {
  const md: Metadata = Object.create(null) as Metadata;
  for (const { key, value } of pairs) {
    const values = md[key];
    if (values === undefined) md[key] = [value];
    else values.push(value);
  }
  return md;
}

export function metadataToPairs(md: Metadata | undefined): KeyValue[] {
  if (md === undefined) return [];
  const pairs: KeyValue[] = [];
  for (const key of Object.keys(md)) {
    for (const value of md[key] ?? []) pairs.push({ key, value });
  }
  return pairs;
}
