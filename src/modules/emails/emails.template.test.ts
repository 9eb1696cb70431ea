import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  renderBody,
  renderReport,
  renderSubject,
  resultsText,
  unknownPlaceholders,
} from './emails.template.ts';

const student = { student_id: 'S<1>', first_name: 'Ελένη', last_name: "O'Brien & <Co>" };
const lines = [
  {
    course_code: 'MATH-1',
    course_name: 'Algebra <adv>',
    semester: 'Fall 2025',
    final_percentage: 91.25,
    letter_grade: 'A',
    attendance_rate: 0.875,
  },
  {
    course_code: 'HIST-22',
    course_name: 'History',
    semester: 'Fall 2025',
    final_percentage: null,
    letter_grade: null,
    attendance_rate: null,
  },
];

describe('email templates', () => {
  it('finds unknown placeholders, with or without spaces, each once', () => {
    expect(unknownPlaceholders('{{ first_name }} {{age}} {{ age }} {{}} {single}')).toEqual([
      'age',
      '',
    ]);
    expect(unknownPlaceholders('{{course_results}}', ['first_name'])).toEqual(['course_results']);
    expect(unknownPlaceholders('plain text, {{student_name}}')).toEqual([]);
  });

  it('fills the text part as is and escapes every value in the HTML part', () => {
    const body = compileTemplate(
      'Dear {{student_name}} ({{ student_id }}) <i>hi</i>\n{{course_results}}',
    );
    const { text, html } = renderBody(body, student, lines);
    expect(text.startsWith("Dear Ελένη O'Brien & <Co> (S<1>) <i>hi</i>\n")).toBe(true);
    expect(html).toContain(
      'Dear Ελένη O&#39;Brien &amp; &lt;Co&gt; (S&lt;1&gt;) &lt;i&gt;hi&lt;/i&gt;<br>',
    );
    expect(html).toContain('<td>Algebra &lt;adv&gt;</td>');
    expect(html).not.toContain('<adv>');
    expect(html).not.toContain('<Co>');
  });

  it('renders the results as an aligned text table with blanks for missing figures', () => {
    expect(resultsText(lines).split('\n')).toEqual([
      'Course   Name           Semester   Final  Grade  Attendance',
      '-------  -------------  ---------  -----  -----  ----------',
      'MATH-1   Algebra <adv>  Fall 2025  91.3%  A      88%',
      'HIST-22  History        Fall 2025  —      —      —',
    ]);
    expect(resultsText([])).toBe('No course results yet.');
  });

  it('keeps a subject on one line', () => {
    const subject = compileTemplate('Report for {{last_name}}');
    expect(renderSubject(subject, { ...student, last_name: 'A\r\nBcc: x@evil.test' })).toBe(
      'Report for A Bcc: x@evil.test',
    );
  });

  it('builds an HTML report with every value escaped and a safe file name', () => {
    const report = renderReport(
      { ...student, class_division: '<A>', study_year: 2 },
      lines,
      new Date('2026-01-02T03:04:05Z'),
    );
    expect(report.filename).toBe('report-S_1_.html');
    expect(report.content).toContain('<h1>Ελένη O&#39;Brien &amp; &lt;Co&gt;</h1>');
    expect(report.content).toContain('<td>&lt;A&gt;</td>');
    expect(report.content).toContain('2026-01-02 03:04 UTC');
    expect(report.content).not.toMatch(/<Co>|<A>|<adv>/);
  });
});
