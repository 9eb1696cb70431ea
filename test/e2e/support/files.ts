import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';

/** The students of a semicolon CSV fixture by row number (the header is row 1). */
export function fixtureRows(file: string): Map<number, string[]> {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const rows = new Map<number, string[]>();
  text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .forEach((line, index) => {
      if (index > 0) rows.set(index + 1, line.split(';'));
    });
  return rows;
}

/** Splits CSV text into rows of fields (quotes, doubled quotes, CRLF; enough for exports). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  const header = body.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = !header.includes(',') && header.includes(';') ? ';' : ',';
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (quoted) {
      if (char === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && body[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The text of every XML part of an XLSX file (it must be a zip: PK\x03\x04). */
export function xlsxText(bytes: Buffer): string {
  if (bytes.subarray(0, 4).toString('binary') !== 'PK\x03\x04') {
    throw new Error('not an XLSX file: no zip signature');
  }
  const parts = unzipSync(new Uint8Array(bytes));
  if (!parts['[Content_Types].xml'] || !Object.keys(parts).some((name) => name.startsWith('xl/'))) {
    throw new Error(`not an XLSX file: parts ${Object.keys(parts).join(', ')}`);
  }
  return Object.entries(parts)
    .filter(([name]) => name.endsWith('.xml'))
    .map(([, data]) => strFromU8(data))
    .join('\n');
}
