import { strToU8, unzipSync, type Zippable, zipSync } from 'fflate';

/** Builds small XLSX workbooks for tests, cell by cell, with full control of the XML. */
export type CellSpec =
  | string
  | number
  | boolean
  | null
  /** Raw cell: attributes and inner XML as given (t, s, <f>, <v>, <is>). */
  | { t?: string; s?: number; v?: string; f?: string; is?: string };

export interface SheetSpec {
  name: string;
  rows?: CellSpec[][];
  /** First physical row of `rows` (title rows above can be left out); default 1. */
  firstRow?: number;
  /** Replaces the generated sheetData content. */
  sheetData?: string;
  hidden?: boolean;
}

export interface WorkbookSpec {
  sheets: SheetSpec[];
  /** Custom number formats, id → code. */
  numFmts?: Record<number, string>;
  /** numFmtId of each cell style (the s attribute indexes this list); default [0]. */
  cellXfs?: number[];
  date1904?: boolean;
}

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function columnName(index: number): string {
  let name = '';
  let n = index + 1;
  while (n > 0) {
    const rest = (n - 1) % 26;
    name = String.fromCharCode(65 + rest) + name;
    n = Math.floor((n - 1) / 26);
  }
  return name;
}

export function buildXlsx(spec: WorkbookSpec): Uint8Array {
  const shared: string[] = [];
  const sharedIndex = new Map<string, number>();
  const share = (text: string) => {
    let index = sharedIndex.get(text);
    if (index === undefined) {
      index = shared.length;
      shared.push(text);
      sharedIndex.set(text, index);
    }
    return index;
  };

  const files: Zippable = {};
  spec.sheets.forEach((sheet, k) => {
    let data = sheet.sheetData;
    if (data === undefined) {
      const first = sheet.firstRow ?? 1;
      data = (sheet.rows ?? [])
        .map((row, r) => {
          const rowNumber = first + r;
          const cells = row
            .map((cell, c) => {
              const ref = `${columnName(c)}${rowNumber}`;
              if (cell === null) return '';
              if (typeof cell === 'string') return `<c r="${ref}" t="s"><v>${share(cell)}</v></c>`;
              if (typeof cell === 'number') return `<c r="${ref}"><v>${cell}</v></c>`;
              if (typeof cell === 'boolean')
                return `<c r="${ref}" t="b"><v>${cell ? 1 : 0}</v></c>`;
              const attributes = `${cell.t ? ` t="${cell.t}"` : ''}${cell.s !== undefined ? ` s="${cell.s}"` : ''}`;
              const inner = `${cell.f !== undefined ? `<f>${escapeXml(cell.f)}</f>` : ''}${cell.v !== undefined ? `<v>${escapeXml(cell.v)}</v>` : ''}${cell.is ?? ''}`;
              return `<c r="${ref}"${attributes}>${inner}</c>`;
            })
            .join('');
          return `<row r="${rowNumber}">${cells}</row>`;
        })
        .join('');
    }
    files[`xl/worksheets/sheet${k + 1}.xml`] = strToU8(
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="${NS}" xmlns:r="${REL}"><sheetData>${data}</sheetData></worksheet>`,
    );
  });

  const sheetEntries = spec.sheets
    .map(
      (sheet, k) =>
        `<sheet name="${escapeXml(sheet.name)}" sheetId="${k + 1}"${sheet.hidden ? ' state="hidden"' : ''} r:id="rId${k + 10}"/>`,
    )
    .join('');
  files['xl/workbook.xml'] = strToU8(
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="${NS}" xmlns:r="${REL}"><workbookPr${spec.date1904 ? ' date1904="1"' : ''}/><sheets>${sheetEntries}</sheets></workbook>`,
  );
  const sheetRels = spec.sheets
    .map(
      (_sheet, k) =>
        `<Relationship Id="rId${k + 10}" Type="${REL}/worksheet" Target="worksheets/sheet${k + 1}.xml"/>`,
    )
    .join('');
  files['xl/_rels/workbook.xml.rels'] = strToU8(
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheetRels}<Relationship Id="rId1" Type="${REL}/styles" Target="styles.xml"/><Relationship Id="rId2" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
  );
  files['_rels/.rels'] = strToU8(
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
  );
  const numFmts = Object.entries(spec.numFmts ?? {})
    .map(([id, code]) => `<numFmt numFmtId="${id}" formatCode="${escapeXml(code)}"/>`)
    .join('');
  const xfs = (spec.cellXfs ?? [0])
    .map((id) => `<xf numFmtId="${id}" fontId="0" fillId="0" borderId="0" xfId="0"/>`)
    .join('');
  files['xl/styles.xml'] = strToU8(
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="${NS}">${numFmts ? `<numFmts>${numFmts}</numFmts>` : ''}<cellStyleXfs count="1"><xf numFmtId="22"/></cellStyleXfs><cellXfs>${xfs}</cellXfs></styleSheet>`,
  );
  files['xl/sharedStrings.xml'] = strToU8(
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="${NS}">${shared.map((text) => `<si><t xml:space="preserve">${escapeXml(text)}</t></si>`).join('')}</sst>`,
  );
  files['[Content_Types].xml'] = strToU8(
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
  );
  return zipSync(files);
}

/**
 * Rewrites the uncompressed size a ZIP declares for `name`, in its local header and in the
 * central directory: a part that lies about its size, as a zip bomb does.
 */
export function patchDeclaredSize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  const nameBytes = strToU8(name);
  const matches = (at: number) =>
    nameBytes.every((b, i) => out[at + i] === b) && nameBytes.length > 0;
  for (let p = 0; p + 46 < out.length; p++) {
    const signature = view.getUint32(p, true);
    if (
      signature === 0x04034b50 &&
      view.getUint16(p + 26, true) === nameBytes.length &&
      matches(p + 30)
    ) {
      view.setUint32(p + 22, size, true);
    }
    if (
      signature === 0x02014b50 &&
      view.getUint16(p + 28, true) === nameBytes.length &&
      matches(p + 46)
    ) {
      view.setUint32(p + 24, size, true);
    }
  }
  return out;
}

export function unzipAll(zip: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(zip);
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Rewrites an archive with one part given as a ready raw-deflate stream of `size` bytes (a
 * stream built in pieces, too big to hold inflated); the other parts are stored. CRCs are left
 * zero: the reader does not check them.
 */
export function withDeflatedPart(
  zip: Uint8Array,
  name: string,
  deflated: Uint8Array,
  size: number,
): Uint8Array {
  const entries = Object.entries(unzipAll(zip))
    .filter(([other]) => other !== name)
    .map(([other, data]) => ({ name: strToU8(other), data, method: 0, size: data.length }));
  entries.push({ name: strToU8(name), data: deflated, method: 8, size });
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const local = new Uint8Array(30 + entry.name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, entry.method, true);
    lv.setUint32(18, entry.data.length, true);
    lv.setUint32(22, entry.size, true);
    lv.setUint16(26, entry.name.length, true);
    local.set(entry.name, 30);
    const header = new Uint8Array(46 + entry.name.length);
    const cv = new DataView(header.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, entry.method, true);
    cv.setUint32(20, entry.data.length, true);
    cv.setUint32(24, entry.size, true);
    cv.setUint16(28, entry.name.length, true);
    cv.setUint32(42, offset, true);
    header.set(entry.name, 46);
    chunks.push(local, entry.data);
    central.push(header);
    offset += local.length + entry.data.length;
  }
  const directory = concatBytes(central);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, directory.length, true);
  ev.setUint32(16, offset, true);
  return concatBytes([...chunks, directory, end]);
}
