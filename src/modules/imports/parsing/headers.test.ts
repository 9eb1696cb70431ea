import { describe, expect, it } from 'vitest';
import { FIELD_SPECS } from './fields.ts';
import { headerWords } from './headers.ts';
import { IMPORT_FIELDS, IMPORT_TYPES, mapHeaders } from './index.ts';

const fields = (result: ReturnType<typeof mapHeaders>) =>
  result.mapping.map((entry) => entry.field);

describe('mapHeaders', () => {
  it('maps canonical names and common aliases, whatever the case and punctuation', () => {
    const result = mapHeaders('students', [
      'Student ID',
      'First name',
      'LAST_NAME',
      'E-mail',
      "Father's name",
      'Mobile',
      'Telephone',
      'Year of study',
      'Enrolment date',
      'Active',
      'Class',
      'Notes',
    ]);
    expect(fields(result)).toEqual([
      'student_id',
      'first_name',
      'last_name',
      'email',
      'father_name',
      'mobile_phone',
      'phone',
      'study_year',
      'enrollment_date',
      'is_active',
      'class_division',
      'note',
    ]);
    expect(result.missingRequired).toEqual([]);
    expect(result.unknownHeaders).toEqual([]);
  });

  it("maps the original system's Greek headers, with or without accents and colons", () => {
    const result = mapHeaders('students', [
      'Επώνυμο:',
      'Όνομα:',
      'Όνομα Πατέρα:',
      'Ηλ. Ταχυδρομείο:',
      'Αρ. Κινητού Τηλεφώνου:',
      'Αρ. Σταθερού Τηλεφώνου:',
      'Έτος Σπουδών:',
      'ΑΡΙΘΜΟΣ ΔΕΛΤΙΟΥ ΤΑΥΤΟΤΗΤΑΣ',
      'Έχετε κάποιο πρόβλημα υγείας;',
    ]);
    expect(fields(result)).toEqual([
      'last_name',
      'first_name',
      'father_name',
      'email',
      'mobile_phone',
      'phone',
      'study_year',
      'student_id',
      'health_issue',
    ]);
    expect(mapHeaders('students', ['Αν ναι, ποιο πρόβλημα υγείας έχετε;']).mapping[0]?.field).toBe(
      'health_issue',
    );
  });

  it('maps references and fields of the other import types', () => {
    expect(
      fields(mapHeaders('enrollments', ['Student ID', 'Course code', 'enrolled_at', 'Status'])),
    ).toEqual(['student_id', 'course_code', 'enrollment_date', 'status']);
    expect(
      fields(mapHeaders('grades', ['student', 'course', 'Assignment', 'Mark', 'Out of', 'Date'])),
    ).toEqual([
      'student_id',
      'course_code',
      'assignment_name',
      'grade',
      'max_grade',
      'date_assigned',
    ]);
    expect(
      fields(
        mapHeaders('attendance', ['Student ID', 'Course', 'Ημερομηνία', 'Παρουσία', 'Period']),
      ),
    ).toEqual(['student_id', 'course_code', 'date', 'status', 'period_number']);
  });

  it('reports unknown columns as warnings and missing required fields', () => {
    const result = mapHeaders('students', ['student_id', 'Shoe size', 'first_name', 'id', '']);
    expect(result.unknownHeaders).toEqual(['Shoe size', 'id']);
    expect(result.missingRequired).toEqual(['last_name']);
    expect(result.warnings).toEqual(['Column 5 has no header; its values are ignored.']);
  });

  it('lets the override choose, ignore, and flags overrides to fields that do not exist', () => {
    const result = mapHeaders('students', ['Κωδικός', 'Name', 'Surname', 'E-mail', 'Misc'], {
      Κωδικός: 'student_id',
      Name: 'first_name',
      'e-mail': null,
      Misc: 'shoe_size',
    });
    expect(fields(result)).toEqual(['student_id', 'first_name', 'last_name', null, null]);
    expect(result.unknownHeaders).toEqual([]);
    expect(result.invalidOverrides).toEqual([{ header: 'Misc', field: 'shoe_size' }]);
  });

  it('gives a field to one column only, preferring the exact field name', () => {
    const result = mapHeaders('students', [
      'E-mail',
      'email',
      'student_id',
      'first_name',
      'last_name',
    ]);
    expect(fields(result)).toEqual([null, 'email', 'student_id', 'first_name', 'last_name']);
    expect(result.warnings[0]).toContain('"E-mail" is ignored');
  });

  it('has no header that names two fields of one import type', () => {
    // The index is built when the module loads and throws on a clash; check it says so.
    for (const type of IMPORT_TYPES) {
      const seen = new Map<string, string>();
      for (const spec of FIELD_SPECS[type]) {
        for (const name of [spec.name, ...(spec.aliases ?? [])]) {
          const key = headerWords(name).replace(/ /g, '');
          expect(seen.get(key) ?? spec.name, `${type}: ${name}`).toBe(spec.name);
          seen.set(key, spec.name);
        }
      }
    }
  });

  it('lists the required and optional fields of every import type', () => {
    expect(IMPORT_FIELDS.students.required).toEqual(['student_id', 'first_name', 'last_name']);
    expect(IMPORT_FIELDS.grades.required).toEqual([
      'student_id',
      'course_code',
      'assignment_name',
      'grade',
    ]);
    expect(IMPORT_FIELDS.highlights.required).toEqual(['student_id', 'semester', 'highlight_text']);
    expect(IMPORT_FIELDS.courses.optional).toContain('evaluation_rules');
  });
});
