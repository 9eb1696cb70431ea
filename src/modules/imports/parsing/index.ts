/**
 * The import parsing library: bytes of an uploaded file → a table of cells → rows of values
 * the modules' create schemas accept. Pure code: no database, no HTTP.
 *
 *   readTable(bytes, fileName, type, options)  CSV / XLSX / JSON → SourceTable, or throws
 *                                               ImportFileError for a file that cannot be read
 *   readTableFile(path, fileName, type, options)
 *                                               the same from disk, rows a chunk at a time;
 *                                               a large CSV is streamed, never held whole
 *   mapHeaders(type, table.headers, override)   headers → canonical fields (aliases, the
 *                                               original system's Greek headers, overrides)
 *   normalizeRow(type, mapping, row.cells, {dateOrder})
 *                                               → { data, keys, issues } for one row
 *   naturalKeys(type, data, keys)               → the row's keys for duplicate detection
 *
 * References. In the API, enrollments, grades, attendance, daily performance and highlights
 * name their student and course by numeric record id (student_id / course_id, `recordId` in
 * their create schemas). In an import file they are named by business key: the student's
 * `student_id` text ("S2025001", an ID card number) and the course's `course_code`
 * ("CS101"). normalizeRow therefore returns those in `keys` (keys.student_id = 'S2025001',
 * keys.course_code = 'CS101') and NOT in `data`, and validates `data` with the module's own
 * create schema without its id fields (`schema.omit({ student_id, course_id })`). The caller
 * resolves the keys against the file and the database and adds the numeric student_id /
 * course_id to `data` before writing. For students and courses the key is a field of the row
 * itself, so it is in both `data` and `keys` (students also get keys.email, lower-cased).
 *
 * Values. Dates become 'YYYY-MM-DD' (ISO, D/M/Y or M/D/Y per dateOrder with / - . and 2- or
 * 4-digit years, or real spreadsheet dates); an impossible date is a row error that says why,
 * never a guess. Numbers accept a decimal comma ("12,5"). Study years accept 1-12 and the
 * Greek numerals Α'-Δ'. Text is trimmed and kept as written, including text that looks like
 * a spreadsheet formula ("=HYPERLINK(...)": exports neutralise it). Blank cells are left out.
 *
 * Row numbers are physical: the CSV record (header = 1, a record's quoted line breaks do not
 * count, blank records do), the XLSX row, the JSON array position (1-based, no header row).
 */
export { ImportFileError, type ImportFileErrorCode } from './errors.ts';
export { FIELD_SPECS, type FieldKind, type FieldSpec, IMPORT_FIELDS } from './fields.ts';
export { fieldForHeader, headerKey, mapHeaders } from './headers.ts';
export { naturalKeys, normalizeRow } from './normalize.ts';
export { readTableFile, type TableStream } from './read-file.ts';
export {
  DEFAULT_MAX_ROWS,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  HEADER_SEARCH_ROWS,
  readTable,
} from './read-table.ts';
export {
  type Cell,
  DATE_ORDERS,
  type DateOrder,
  DELIMITERS,
  type Delimiter,
  ENCODINGS,
  type Encoding,
  type HeaderMapping,
  IMPORT_TYPES,
  type ImportType,
  type NormalizedRow,
  type ReadLimits,
  type ReadOptions,
  type RowIssue,
  type SourceRow,
  type SourceTable,
} from './types.ts';
export { dateOrderEvidence } from './values.ts';
