import { describe, expect, it } from 'vitest';
import { KeyTable } from './key-table.ts';

describe('KeyTable', () => {
  it('remembers the first row of each of 300,000 keys through its growth', () => {
    const table = new KeyTable();
    const keys = Array.from({ length: 300_000 }, (_, i) =>
      i % 2 === 0 ? `student_id:["S${String(i).padStart(7, '0')}"]` : `email:["s${i}@σχολείο.gr"]`,
    );
    keys.forEach((key, index) => {
      expect(table.firstOrAdd(key, index + 2)).toBeUndefined();
    });
    keys.forEach((key, index) => {
      expect(table.firstOrAdd(key, 999_999)).toBe(index + 2);
    });
    // Keys that differ in one character, or only in order, are different keys.
    expect(table.firstOrAdd('student_id:["S0000001"]', 7)).toBeUndefined();
    expect(table.firstOrAdd('grade:["S1","CS101","Test 1"]', 8)).toBeUndefined();
    expect(table.firstOrAdd('grade:["CS101","S1","Test 1"]', 9)).toBeUndefined();
    expect(table.firstOrAdd('grade:["S1","CS101","Test 1"]', 10)).toBe(8);
  });
});
