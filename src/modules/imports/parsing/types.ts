/** The kinds of record a file can be imported as. */
export const IMPORT_TYPES = [
  'students',
  'courses',
  'enrollments',
  'grades',
  'attendance',
  'daily_performances',
  'highlights',
] as const;
export type ImportType = (typeof IMPORT_TYPES)[number];

export const ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1253', 'windows-1252'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

export const DATE_ORDERS = ['DMY', 'MDY'] as const;
export type DateOrder = (typeof DATE_ORDERS)[number];

export interface ReadLimits {
  /** Data rows (after the header) a file may have; default 1,000,000. */
  maxRows?: number;
  /** XLSX: bytes the archive may inflate to, declared and actual; default 200 MB. */
  maxUncompressedBytes?: number;
}

export interface ReadOptions {
  /** Overrides the detected text encoding (CSV and JSON). */
  encoding?: Encoding;
  /** Overrides the detected CSV delimiter. */
  delimiter?: Delimiter;
  /** XLSX: the sheet to read, by name; otherwise the first sheet whose header maps. */
  sheet?: string;
  limits?: ReadLimits;
  /** The user's header mapping override, so the header row is found with it too. */
  mapping?: Record<string, string | null>;
  /** Forces the header row (1-based physical row) instead of looking for it. */
  headerRow?: number;
}

export type Cell = string | number | boolean | Date | null;

export interface SourceRow {
  /** Physical row in the file: the CSV record (header = 1), the XLSX row, the JSON array position. */
  rowNumber: number;
  cells: Cell[];
}

export interface SourceTable {
  format: 'csv' | 'xlsx' | 'json';
  /** The text encoding used (CSV, JSON); null for XLSX, whose XML is always UTF-8. */
  encoding: Encoding | null;
  /** The CSV delimiter used; null for XLSX and JSON. */
  delimiter: Delimiter | null;
  /** The XLSX sheet read; null for CSV and JSON. */
  sheet: string | null;
  /** The header cells as written in the file (trailing empty header cells dropped). */
  headers: string[];
  /** 1-based physical row of the header; 0 for JSON, which has none. */
  headerRowNumber: number;
  /** The data rows below the header; blank rows are skipped (their numbers are not reused). */
  rows: SourceRow[];
}

export interface HeaderMapping {
  /** One entry per header, in file order; field null means the column is not imported. */
  mapping: Array<{ header: string; field: string | null }>;
  /** Required fields no column maps to (the lead answers 422). */
  missingRequired: string[];
  /** Non-empty headers that map to nothing (a warning: the column is ignored). */
  unknownHeaders: string[];
  /** Headers the override sent to a field this import type does not have. */
  invalidOverrides: Array<{ header: string; field: string }>;
  /** Other remarks for the preview, e.g. two columns mapping to the same field. */
  warnings: string[];
}

export interface RowIssue {
  field: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface NormalizedRow {
  /** Values for the module's create schema (reference ids left out; see index.ts). */
  data: Record<string, unknown>;
  /** Business keys: student_id (text), course_code, and for students email. */
  keys: Record<string, string>;
  issues: RowIssue[];
}
