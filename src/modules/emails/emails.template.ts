/**
 * The placeholder syntax of email batches: {{name}} (spaces inside the braces allowed), one
 * of PLACEHOLDERS and nothing else: no expressions, no loops, no HTML from the template
 * author. Values are inserted as text; the HTML part escapes every one of them.
 */
export const PLACEHOLDERS = [
  'student_name',
  'first_name',
  'last_name',
  'student_id',
  'course_results',
] as const;

export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Placeholders a subject line may use: a table does not fit on one line. */
export const SUBJECT_PLACEHOLDERS: readonly Placeholder[] = [
  'student_name',
  'first_name',
  'last_name',
  'student_id',
];

const PLACEHOLDER_PATTERN = /\{\{([^{}]*)\}\}/g;

type Segment = { text: string } | { placeholder: Placeholder };

/** The names between {{ and }} that are not among `allowed`, each once, in order. */
export function unknownPlaceholders(
  template: string,
  allowed: readonly Placeholder[] = PLACEHOLDERS,
): string[] {
  const unknown = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER_PATTERN)) {
    const name = (match[1] ?? '').trim();
    if (!(allowed as readonly string[]).includes(name)) unknown.add(name);
  }
  return [...unknown];
}

/** Splits a template (already checked by unknownPlaceholders) into text and placeholders. */
export function compileTemplate(template: string): Segment[] {
  const segments: Segment[] = [];
  let at = 0;
  for (const match of template.matchAll(PLACEHOLDER_PATTERN)) {
    const index = match.index ?? 0;
    if (index > at) segments.push({ text: template.slice(at, index) });
    const name = (match[1] ?? '').trim();
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new Error(`Unknown placeholder {{${name}}}`);
    }
    segments.push({ placeholder: name as Placeholder });
    at = index + match[0].length;
  }
  if (at < template.length) segments.push({ text: template.slice(at) });
  return segments;
}

export function usesPlaceholder(segments: Segment[], name: Placeholder): boolean {
  return segments.some((segment) => 'placeholder' in segment && segment.placeholder === name);
}

/** One line of the course results table: a course the student is enrolled in. */
export interface CourseResultLine {
  course_code: string;
  course_name: string;
  semester: string;
  /** Null until the recompute job has results for it. */
  final_percentage: number | null;
  letter_grade: string | null;
  /** A fraction (0–1). */
  attendance_rate: number | null;
}

export interface TemplateStudent {
  student_id: string;
  first_name: string;
  last_name: string;
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const percent = (value: number | null) => (value === null ? '—' : `${value.toFixed(1)}%`);
const rate = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(0)}%`);

const RESULT_HEADERS = ['Course', 'Name', 'Semester', 'Final', 'Grade', 'Attendance'];

function resultCells(line: CourseResultLine): string[] {
  return [
    line.course_code,
    line.course_name,
    line.semester,
    percent(line.final_percentage),
    line.letter_grade ?? '—',
    rate(line.attendance_rate),
  ];
}

/** A plain-text table, columns padded to their widest cell. */
export function resultsText(lines: CourseResultLine[]): string {
  if (lines.length === 0) return 'No course results yet.';
  const rows = [RESULT_HEADERS, ...lines.map(resultCells)];
  const widths = RESULT_HEADERS.map((_, column) =>
    Math.max(...rows.map((row) => [...(row[column] ?? '')].length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [format(RESULT_HEADERS), rule, ...rows.slice(1).map(format)].join('\n');
}

/** The same table in HTML, every value escaped. */
export function resultsHtml(lines: CourseResultLine[]): string {
  if (lines.length === 0) return '<p>No course results yet.</p>';
  const head = RESULT_HEADERS.map((title) => `<th align="left">${escapeHtml(title)}</th>`).join('');
  const body = lines
    .map(
      (line) =>
        `<tr>${resultCells(line)
          .map((cell) => `<td>${escapeHtml(cell)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table border="1" cellpadding="4" cellspacing="0">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function placeholderValue(
  name: Exclude<Placeholder, 'course_results'>,
  student: TemplateStudent,
): string {
  switch (name) {
    case 'student_name':
      return `${student.first_name} ${student.last_name}`;
    case 'first_name':
      return student.first_name;
    case 'last_name':
      return student.last_name;
    case 'student_id':
      return student.student_id;
  }
}

/** A subject line: placeholders filled in, line breaks folded to spaces. */
export function renderSubject(segments: Segment[], student: TemplateStudent): string {
  return segments
    .map((segment) =>
      'text' in segment
        ? segment.text
        : segment.placeholder === 'course_results'
          ? ''
          : placeholderValue(segment.placeholder, student),
    )
    .join('')
    .replace(/[\r\n]+/g, ' ')
    .trim();
}

/** The text part and the HTML part of one student's message. */
export function renderBody(
  segments: Segment[],
  student: TemplateStudent,
  results: CourseResultLine[],
): { text: string; html: string } {
  const text: string[] = [];
  const html: string[] = [];
  for (const segment of segments) {
    if ('text' in segment) {
      text.push(segment.text);
      html.push(escapeHtml(segment.text).replace(/\r?\n/g, '<br>\n'));
    } else if (segment.placeholder === 'course_results') {
      text.push(resultsText(results));
      html.push(resultsHtml(results));
    } else {
      const value = placeholderValue(segment.placeholder, student);
      text.push(value);
      html.push(escapeHtml(value));
    }
  }
  return {
    text: text.join(''),
    html: `<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n${html.join('')}\n</body></html>\n`,
  };
}

/** The optional attachment: one student's details and results as a standalone HTML page. */
export function renderReport(
  student: TemplateStudent & { class_division: string | null; study_year: number | null },
  results: CourseResultLine[],
  generatedAt: Date,
): { filename: string; content: string; contentType: string } {
  const name = escapeHtml(`${student.first_name} ${student.last_name}`);
  const details: Array<[string, string]> = [
    ['Student ID', student.student_id],
    ['Class division', student.class_division ?? '—'],
    ['Study year', student.study_year === null ? '—' : String(student.study_year)],
    ['Generated', `${generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`],
  ];
  const content = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Report: ${name}</title></head>
<body>
<h1>${name}</h1>
<table cellpadding="4" cellspacing="0">
${details.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('\n')}
</table>
<h2>Course results</h2>
${resultsHtml(results)}
</body></html>
`;
  const safeId = student.student_id.replace(/[^\w.-]+/g, '_').slice(0, 60);
  return { filename: `report-${safeId}.html`, content, contentType: 'text/html; charset=utf-8' };
}
