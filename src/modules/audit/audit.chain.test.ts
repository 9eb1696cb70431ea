import { getTableColumns } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  type ChainedFields,
  COVERED_FIELDS,
  canonicalJson,
  entryHash,
  GENESIS_HASH,
} from './audit.chain.ts';
import { auditLogs } from './audit.table.ts';

// Chains written by earlier versions must keep verifying: the canonical form and the hash of
// this entry were computed by the first implementation (session 3) and may never change.
const entry = {
  id: 42,
  action: 'UPDATE',
  resource: 'STUDENT',
  resource_id: '7',
  user_id: 3,
  user_email: 'secretary@school.example',
  ip_address: '192.0.2.10',
  user_agent: 'Mozilla/5.0',
  details: {
    operation: 'import',
    '10': 'ten',
    '2': 'two',
    nested: [1, 2.5, null, { z: true, a: 'Ω' }],
    skipped: undefined,
  },
  success: true,
  error_message: null,
  timestamp: new Date('2026-11-27T08:30:00.123Z'),
  request_id: 'req-1',
  old_values: { last_name: 'Παπαδόπουλος', note: 'line\nbreak "quoted" \\ back' },
  new_values: { last_name: 'Papadopoulos', note: null },
} as ChainedFields;

describe('the chain hash', () => {
  it('keeps the canonical form: keys sorted as strings at every depth, undefined left out', () => {
    expect(canonicalJson(entry)).toBe(
      '{"action":"UPDATE","details":{"10":"ten","2":"two","nested":[1,2.5,null,{"a":"Ω","z":true}],"operation":"import"},"error_message":null,"id":42,"ip_address":"192.0.2.10","new_values":{"last_name":"Papadopoulos","note":null},"old_values":{"last_name":"Παπαδόπουλος","note":"line\\nbreak \\"quoted\\" \\\\ back"},"request_id":"req-1","resource":"STUDENT","resource_id":"7","success":true,"timestamp":"2026-11-27T08:30:00.123Z","user_agent":"Mozilla/5.0","user_email":"secretary@school.example","user_id":3}',
    );
  });

  it('keeps the hash of an entry, and a Date hashes as its ISO text (as read back)', () => {
    const hash = '5ba6fa23faf2d59ea4c78dd84264d3483ff5c33b3e31027c752ba5721139140b';
    expect(entryHash(GENESIS_HASH, entry)).toBe(hash);
    const readBack = {
      ...entry,
      timestamp: '2026-11-27T08:30:00.123Z',
    } as unknown as ChainedFields;
    expect(entryHash(GENESIS_HASH, readBack)).toBe(hash);
    expect(entryHash(GENESIS_HASH, { ...entry, user_id: 4 })).not.toBe(hash);
  });

  it('covers every column of audit_logs but the hashes, in sorted order', () => {
    const columns = Object.keys(getTableColumns(auditLogs)).filter(
      (name) => name !== 'prev_hash' && name !== 'hash',
    );
    expect([...COVERED_FIELDS]).toEqual(columns.sort());
  });

  it('writes the values JSON has no form for as JSON.stringify does', () => {
    expect(canonicalJson([undefined, Number.NaN, Number.POSITIVE_INFINITY, -0])).toBe(
      '[null,null,null,0]',
    );
    expect(canonicalJson({ a: undefined })).toBe('{}');
    expect(canonicalJson('\u0000\ud800')).toBe(JSON.stringify('\u0000\ud800'));
  });
});
