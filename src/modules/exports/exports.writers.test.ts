import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  csvCell,
  type ExportFormat,
  type ExportRecord,
  type SheetColumn,
  type SheetSource,
  writeExport,
} from './exports.writers.ts';
import { columnLetter, xmlEscape } from './xlsx.writer.ts';

const columns: SheetColumn[] = [
  { key: 'id', header: 'ID', type: 'number' },
  { key: 'name', header: 'Όνομα', type: 'text' },
  { key: 'born', header: 'Born', type: 'date' },
  { key: 'active', header: 'Active', type: 'boolean' },
  { key: 'created_at', header: 'Created', type: 'datetime' },
  { key: 'rules', header: 'Rules', type: 'json' },
];

const records: ExportRecord[] = [
  {
    id: 1,
    name: 'Ελένη Παπαδοπούλου',
    born: '2008-03-01',
    active: true,
    created_at: new Date('2025-01-02T03:04:05Z'),
    rules: [{ category: 'exam', weight: 60 }],
  },
  { id: 2, name: '=HYPERLINK("http://evil.test","click")', born: null, active: false },
  { id: 3, name: 'a\u0001b <&> "q"', born: '2008-12-31', active: true },
  { id: -4, name: '-5', born: null, active: null },
];

function source(rows: ExportRecord[], name = 'Μαθητές', batchSize = 2): SheetSource {
  return {
    name,
    key: 'students',
    columns,
    batches: (async function* () {
      for (let index = 0; index < rows.length; index += batchSize) {
        yield rows.slice(index, index + batchSize);
      }
    })(),
  };
}

async function collect(format: ExportFormat, sheets: SheetSource[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of writeExport(format, sheets)) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

describe('CSV writer', () => {
  it('starts with a UTF-8 BOM, quotes per RFC 4180, ends lines with CRLF and neutralises formulas', async () => {
    const bytes = await collect('csv', [source(records)]);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('ID,Όνομα,Born,Active,Created,Rules');
    expect(lines[1]).toBe(
      '1,Ελένη Παπαδοπούλου,2008-03-01,true,2025-01-02T03:04:05.000Z,"[{""category"":""exam"",""weight"":60}]"',
    );
    expect(lines[2]).toBe(`2,"'=HYPERLINK(""http://evil.test"",""click"")",,false,,`);
    // A number column's negative number is a number; a text column's "-5" is neutralised.
    expect(lines[4]).toBe("-4,'-5,,,,");
    expect(lines.at(-1)).toBe('');
    expect(text.includes('\n') && !/[^\r]\n/.test(text)).toBe(true);
  });

  it('neutralises every formula start, tab and carriage return included', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${start}1+1`, 'text').replace(/^"/, '')).toMatch(/^'/);
    }
    expect(csvCell('plain', 'text')).toBe('plain');
    expect(csvCell('a,b', 'text')).toBe('"a,b"');
  });

  it('writes several parts as titled sections', async () => {
    const text = (
      await collect('csv', [source(records.slice(0, 1), 'Student'), source([], 'Grades')])
    ).toString('utf8');
    expect(text.split('\r\n').slice(0, 5)).toEqual([
      '\uFEFFStudent',
      'ID,Όνομα,Born,Active,Created,Rules',
      expect.stringMatching(/^1,/),
      '',
      'Grades',
    ]);
  });
});

describe('JSON writer', () => {
  it('streams an array with values exact and typed', async () => {
    const parsed = JSON.parse((await collect('json', [source(records)])).toString('utf8'));
    expect(parsed).toHaveLength(4);
    expect(parsed[0]).toEqual({
      id: 1,
      name: 'Ελένη Παπαδοπούλου',
      born: '2008-03-01',
      active: true,
      created_at: '2025-01-02T03:04:05.000Z',
      rules: [{ category: 'exam', weight: 60 }],
    });
    expect(parsed[1].name).toBe('=HYPERLINK("http://evil.test","click")');
    expect(JSON.parse((await collect('json', [source([])])).toString('utf8'))).toEqual([]);
  });

  it('writes several parts as one object', async () => {
    const parsed = JSON.parse(
      (
        await collect('json', [
          { ...source(records.slice(0, 1)), key: 'student' },
          { ...source([]), key: 'grades' },
        ])
      ).toString('utf8'),
    );
    expect(Object.keys(parsed)).toEqual(['student', 'grades']);
    expect(parsed.student).toHaveLength(1);
    expect(parsed.grades).toEqual([]);
  });
});

/** Reads a workbook back: its parts as text. */
function readWorkbook(bytes: Uint8Array): Record<string, string> {
  const files = unzipSync(bytes);
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, strFromU8(data)]));
}

describe('XLSX writer', () => {
  it('writes a workbook that opens: parts, frozen styled header, typed cells, neutralised formulas', async () => {
    const parts = readWorkbook(await collect('xlsx', [source(records)]));
    expect(Object.keys(parts).sort()).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'xl/_rels/workbook.xml.rels',
      'xl/styles.xml',
      'xl/workbook.xml',
      'xl/worksheets/sheet1.xml',
    ]);
    expect(parts['xl/workbook.xml']).toContain('<sheet name="Μαθητές" sheetId="1" r:id="rId1"/>');
    const sheet = parts['xl/worksheets/sheet1.xml'] as string;
    // Every part is well-formed enough to count on: one header row and four data rows.
    expect(sheet.match(/<row /g)).toHaveLength(5);
    expect(sheet).toContain(
      '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>',
    );
    expect(sheet).toMatch(
      /<cols>(<col min="\d+" max="\d+" width="[\d.]+" customWidth="1"\/>){6}<\/cols>/,
    );
    // Header: bold filled style 1.
    expect(sheet).toContain('<c r="B1" t="inlineStr" s="1"><is><t>Όνομα</t></is></c>');
    expect(sheet).toContain('<c r="B2" t="inlineStr"><is><t>Ελένη Παπαδοπούλου</t></is></c>');
    // Numbers as numbers, dates as date serials with a date style, booleans as booleans.
    expect(sheet).toContain('<c r="A2"><v>1</v></c>');
    expect(sheet).toContain('<c r="C2" s="2"><v>39508</v></c>');
    expect(sheet).toContain('<c r="D2" t="b"><v>1</v></c>');
    expect(sheet).toMatch(/<c r="E2" s="3"><v>45659\.12\d*<\/v><\/c>/);
    // The formula payload: an inline string (never evaluated) with the quotePrefix style.
    expect(sheet).toContain(
      '<c r="B3" t="inlineStr" s="4"><is><t>=HYPERLINK(&quot;http://evil.test&quot;,&quot;click&quot;)</t></is></c>',
    );
    expect(sheet).not.toContain('<f>');
    // XML special characters escaped, characters XML 1.0 forbids dropped.
    expect(sheet).toContain('<t>ab &lt;&amp;&gt; &quot;q&quot;</t>');
    expect(parts['xl/styles.xml']).toContain('quotePrefix="1"');
    expect(parts['xl/styles.xml']).toContain('<font><b/>');
    expect(parts['[Content_Types].xml']).toContain('/xl/worksheets/sheet1.xml');
  });

  it('writes one sheet per part, with an empty part still a valid sheet', async () => {
    const parts = readWorkbook(
      await collect('xlsx', [
        source(records, 'Student'),
        source([], 'Grades'),
        source([], 'Grades'),
      ]),
    );
    expect(parts['xl/workbook.xml']).toContain('name="Student"');
    expect(parts['xl/workbook.xml']).toContain('name="Grades"');
    expect(parts['xl/workbook.xml']).toContain('name="Grades (3)"');
    expect(parts['xl/worksheets/sheet2.xml']?.match(/<row /g)).toHaveLength(1);
    expect(parts['xl/worksheets/sheet3.xml']).toContain('</sheetData></worksheet>');
  });

  it('names columns and escapes text', () => {
    expect([0, 25, 26, 27, 701, 702].map(columnLetter)).toEqual([
      'A',
      'Z',
      'AA',
      'AB',
      'ZZ',
      'AAA',
    ]);
    expect(xmlEscape('\u0000x\uFFFE\uD800y\uD83D\uDE00')).toBe('xy\uD83D\uDE00');
  });
});
