import { createHash } from 'node:crypto';
import type { AuditRow } from './audit.table.ts';

export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted at every depth, so equal values always hash the same. Written
 * as loops (no entries arrays, no intermediate strings per member): every sealed entry goes
 * through it, and it was the largest part of sealing's JavaScript (bench:import profile).
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) out += ',';
      out += canonicalJson(value[index]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `<` on strings does.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** The fields an entry's hash covers: everything but the hashes themselves. */
export type ChainedFields = Omit<AuditRow, 'prev_hash' | 'hash'>;

/** The covered fields in canonical (sorted) order: the top level needs no sorting per entry. */
export const COVERED_FIELDS = [
  'action',
  'details',
  'error_message',
  'id',
  'ip_address',
  'new_values',
  'old_values',
  'request_id',
  'resource',
  'resource_id',
  'success',
  'timestamp',
  'user_agent',
  'user_email',
  'user_id',
] as const satisfies ReadonlyArray<keyof ChainedFields>;

/** SHA-256 of the previous hash and the canonical JSON of the entry's covered fields. */
export function entryHash(prevHash: string, entry: ChainedFields): string {
  let json = '{';
  for (const field of COVERED_FIELDS) {
    const value = entry[field];
    if (value === undefined) continue;
    if (json.length > 1) json += ',';
    json += `"${field}":${canonicalJson(value)}`;
  }
  return createHash('sha256').update(prevHash).update(`${json}}`).digest('hex');
}

export type ChainProblemKind = 'altered' | 'missing' | 'relinked' | 'inserted';

export interface ChainProblem {
  id: number;
  kind: ChainProblemKind;
  message: string;
}

/**
 * Checks a run of entries in id order against the hash before it. Names each entry that was
 * altered (its hash no longer matches its content), missing (a gap in the ids) or relinked
 * (its prev_hash does not match the entry before it: inserted or reordered).
 */
export class ChainVerifier {
  readonly problems: ChainProblem[] = [];
  checked = 0;
  private previousId: number;
  private previousHash: string;

  constructor(anchorId: number, anchorHash: string) {
    this.previousId = anchorId;
    this.previousHash = anchorHash;
  }

  add(row: AuditRow): void {
    this.checked++;
    if (row.id !== this.previousId + 1) {
      const first = this.previousId + 1;
      const last = row.id - 1;
      this.problems.push({
        id: first,
        kind: 'missing',
        message:
          first === last
            ? `entry ${first} is missing`
            : `entries ${first} to ${last} are missing (${last - first + 1} entries)`,
      });
    } else if (row.prev_hash !== this.previousHash) {
      this.problems.push({
        id: row.id,
        kind: 'relinked',
        message: `entry ${row.id} does not follow entry ${this.previousId} (prev_hash differs)`,
      });
    }
    if (entryHash(row.prev_hash, row) !== row.hash) {
      this.problems.push({
        id: row.id,
        kind: 'altered',
        message: `entry ${row.id} was changed after it was written (hash differs)`,
      });
    }
    this.previousId = row.id;
    this.previousHash = row.hash;
  }

  /** The chain must end where the head says it does: no entries cut off or added at the end. */
  finish(lastId: number, lastHash: string): void {
    if (this.previousId > lastId) {
      this.problems.push({
        id: lastId + 1,
        kind: 'inserted',
        message: `entries ${lastId + 1} to ${this.previousId} were added behind the chain head`,
      });
    } else if (this.previousId < lastId) {
      this.problems.push({
        id: this.previousId + 1,
        kind: 'missing',
        message: `entries ${this.previousId + 1} to ${lastId} are missing from the end`,
      });
    } else if (this.previousId === lastId && this.previousHash !== lastHash) {
      this.problems.push({
        id: lastId,
        kind: 'altered',
        message: `entry ${lastId} does not match the chain head`,
      });
    }
  }
}
