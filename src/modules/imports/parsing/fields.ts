import type { ImportType } from './types.ts';

/**
 * How a cell becomes a value:
 * - text: trimmed text (numbers and dates written out);
 * - reference: text naming another record (a student's student_id, a course's course_code),
 *   returned in `keys`, never in `data`;
 * - number / integer, date ('YYYY-MM-DD'), boolean, json (text holding JSON);
 * - study_year: 1-12, or the Greek numerals Α'-Δ' (and on) the original system wrote;
 * - enum: one of `values`, matched without regard to case, or one of its `synonyms`.
 */
export type FieldKind =
  | 'text'
  | 'reference'
  | 'number'
  | 'integer'
  | 'date'
  | 'boolean'
  | 'json'
  | 'study_year'
  | 'enum';

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  required?: boolean;
  /** Other header names for the field; compared case-, accent- and punctuation-insensitively. */
  aliases?: string[];
  /** A header containing one of these (normalised) phrases maps to the field. */
  contains?: string[];
  /** enum: the canonical values, and other spellings of each. */
  values?: readonly string[];
  synonyms?: Record<string, string>;
}

const STUDENT_REF: FieldSpec = {
  name: 'student_id',
  kind: 'reference',
  required: true,
  aliases: [
    'student',
    'student id',
    'student no',
    'student number',
    'student code',
    'registration number',
    'αριθμός δελτίου ταυτότητας',
    'αρ δελτίου ταυτότητας',
    'αριθμός ταυτότητας',
    'αρ ταυτότητας',
    'ταυτότητα',
    'αριθμός μητρώου',
    'αρ μητρώου',
    'μαθητής',
    'φοιτητής',
    'κωδικός φοιτητή',
    'κωδικός μαθητή',
  ],
};

const COURSE_REF: FieldSpec = {
  name: 'course_code',
  kind: 'reference',
  required: true,
  aliases: [
    'course',
    'course code',
    'course id',
    'code',
    'subject',
    'subject code',
    'κωδικός μαθήματος',
    'κωδικός',
    'μάθημα',
  ],
};

const NOTES: FieldSpec = {
  name: 'notes',
  kind: 'text',
  aliases: ['note', 'comment', 'comments', 'remarks', 'σημειώσεις', 'σημείωση', 'παρατηρήσεις'],
};

const DATE_ALIASES = ['day', 'ημερομηνία', 'ημέρα'];

export const FIELD_SPECS: Record<ImportType, FieldSpec[]> = {
  students: [
    {
      ...STUDENT_REF,
      kind: 'text',
      // In a list of students, a "Student" column holds a name, not the id.
      aliases: STUDENT_REF.aliases?.filter((a) => !['student', 'μαθητής', 'φοιτητής'].includes(a)),
    },
    {
      name: 'first_name',
      kind: 'text',
      required: true,
      aliases: ['first name', 'firstname', 'given name', 'forename', 'όνομα'],
    },
    {
      name: 'last_name',
      kind: 'text',
      required: true,
      aliases: ['last name', 'lastname', 'surname', 'family name', 'επώνυμο'],
    },
    {
      name: 'email',
      kind: 'text',
      aliases: [
        'e-mail',
        'email address',
        'e-mail address',
        'mail',
        'ηλ ταχυδρομείο',
        'ηλεκτρονικό ταχυδρομείο',
        'διεύθυνση ηλεκτρονικού ταχυδρομείου',
      ],
    },
    {
      name: 'father_name',
      kind: 'text',
      aliases: ["father's name", 'father', 'όνομα πατέρα', 'πατρώνυμο'],
    },
    {
      name: 'mobile_phone',
      kind: 'text',
      aliases: [
        'mobile',
        'mobile number',
        'cell',
        'cell phone',
        'cellphone',
        'αρ κινητού τηλεφώνου',
        'αριθμός κινητού τηλεφώνου',
        'κινητό',
        'κινητό τηλέφωνο',
      ],
    },
    {
      name: 'phone',
      kind: 'text',
      aliases: [
        'telephone',
        'phone number',
        'landline',
        'home phone',
        'αρ σταθερού τηλεφώνου',
        'αριθμός σταθερού τηλεφώνου',
        'σταθερό',
        'σταθερό τηλέφωνο',
        'τηλέφωνο',
      ],
    },
    {
      name: 'study_year',
      kind: 'study_year',
      aliases: ['year', 'year of study', 'grade level', 'έτος σπουδών', 'έτος', 'τάξη'],
    },
    {
      name: 'enrollment_date',
      kind: 'date',
      aliases: [
        'enrolment date',
        'enrolled at',
        'enrolled on',
        'date enrolled',
        'registration date',
        'ημερομηνία εγγραφής',
      ],
    },
    { name: 'is_active', kind: 'boolean', aliases: ['active', 'ενεργός', 'ενεργή', 'ενεργό'] },
    {
      name: 'academic_year',
      kind: 'text',
      aliases: ['school year', 'ακαδημαϊκό έτος', 'σχολικό έτος'],
    },
    {
      name: 'class_division',
      kind: 'text',
      aliases: ['class', 'division', 'section', 'τμήμα'],
    },
    {
      name: 'health_issue',
      kind: 'text',
      aliases: ['health', 'health issues', 'medical', 'medical notes', 'πρόβλημα υγείας', 'υγεία'],
      contains: ['πρόβλημα υγείας', 'προβλήματα υγείας', 'health issue', 'health problem'],
    },
    { ...NOTES, name: 'note', aliases: ['notes', ...(NOTES.aliases ?? [])] },
  ],
  courses: [
    { ...COURSE_REF, kind: 'text', aliases: COURSE_REF.aliases?.filter((a) => a !== 'μάθημα') },
    {
      name: 'course_name',
      kind: 'text',
      required: true,
      aliases: ['name', 'title', 'course title', 'όνομα μαθήματος', 'τίτλος', 'μάθημα'],
    },
    { name: 'semester', kind: 'text', required: true, aliases: ['term', 'εξάμηνο', 'περίοδος'] },
    {
      name: 'credits',
      kind: 'integer',
      aliases: ['ects', 'credit', 'πιστωτικές μονάδες', 'μονάδες'],
    },
    { name: 'description', kind: 'text', aliases: ['περιγραφή'] },
    {
      name: 'evaluation_rules',
      kind: 'json',
      aliases: ['evaluation', 'grading', 'κανόνες αξιολόγησης', 'αξιολόγηση'],
    },
    { name: 'absence_penalty', kind: 'number', aliases: ['ποινή απουσιών'] },
    {
      name: 'hours_per_week',
      kind: 'number',
      aliases: ['hours', 'weekly hours', 'ώρες', 'ώρες ανά εβδομάδα', 'εβδομαδιαίες ώρες'],
    },
    {
      name: 'teaching_schedule',
      kind: 'json',
      aliases: ['schedule', 'timetable', 'πρόγραμμα', 'ωρολόγιο πρόγραμμα'],
    },
  ],
  enrollments: [
    STUDENT_REF,
    COURSE_REF,
    {
      name: 'enrollment_date',
      kind: 'date',
      aliases: [
        'enrolment date',
        'enrolled at',
        'enrolled on',
        'date enrolled',
        'date',
        'ημερομηνία εγγραφής',
        'ημερομηνία',
      ],
    },
    {
      name: 'status',
      kind: 'enum',
      values: ['active', 'completed', 'dropped'],
      synonyms: {
        ενεργή: 'active',
        ενεργός: 'active',
        ολοκληρώθηκε: 'completed',
        ολοκληρωμένη: 'completed',
        complete: 'completed',
        withdrawn: 'dropped',
        αποχώρησε: 'dropped',
        διαγραφή: 'dropped',
      },
      aliases: ['enrollment status', 'κατάσταση'],
    },
  ],
  grades: [
    STUDENT_REF,
    COURSE_REF,
    {
      name: 'assignment_name',
      kind: 'text',
      required: true,
      aliases: ['assignment', 'assessment', 'exam', 'title', 'εργασία', 'αξιολόγηση', 'τίτλος'],
    },
    { name: 'category', kind: 'text', aliases: ['type', 'κατηγορία', 'τύπος'] },
    {
      name: 'grade',
      kind: 'number',
      required: true,
      aliases: ['mark', 'score', 'points', 'result', 'βαθμός', 'βαθμολογία'],
    },
    {
      name: 'max_grade',
      kind: 'number',
      aliases: ['max', 'max mark', 'max score', 'out of', 'maximum', 'μέγιστος βαθμός', 'άριστα'],
    },
    { name: 'weight', kind: 'number', aliases: ['βάρος', 'συντελεστής'] },
    {
      name: 'date_assigned',
      kind: 'date',
      aliases: ['date', 'assigned', 'assigned on', 'ημερομηνία', 'ημερομηνία ανάθεσης'],
    },
    {
      name: 'date_submitted',
      kind: 'date',
      aliases: ['submitted', 'submitted on', 'submission date', 'ημερομηνία υποβολής'],
    },
    NOTES,
  ],
  attendance: [
    STUDENT_REF,
    COURSE_REF,
    { name: 'date', kind: 'date', required: true, aliases: DATE_ALIASES },
    {
      name: 'status',
      kind: 'enum',
      required: true,
      values: ['Present', 'Absent', 'Late', 'Excused'],
      synonyms: {
        p: 'Present',
        a: 'Absent',
        l: 'Late',
        e: 'Excused',
        παρών: 'Present',
        παρούσα: 'Present',
        απών: 'Absent',
        απούσα: 'Absent',
        απουσία: 'Absent',
        καθυστέρηση: 'Late',
        αργοπορία: 'Late',
        δικαιολογημένη: 'Excused',
        δικαιολογημένος: 'Excused',
        'δικαιολογημένη απουσία': 'Excused',
      },
      aliases: ['attendance', 'presence', 'παρουσία', 'κατάσταση'],
    },
    {
      name: 'period_number',
      kind: 'integer',
      aliases: ['period', 'lesson', 'hour', 'ώρα', 'περίοδος', 'διδακτική ώρα'],
    },
    NOTES,
  ],
  daily_performances: [
    STUDENT_REF,
    COURSE_REF,
    { name: 'date', kind: 'date', required: true, aliases: DATE_ALIASES },
    { name: 'category', kind: 'text', required: true, aliases: ['type', 'κατηγορία', 'τύπος'] },
    {
      name: 'score',
      kind: 'number',
      required: true,
      aliases: ['mark', 'grade', 'points', 'βαθμός', 'βαθμολογία'],
    },
    {
      name: 'max_score',
      kind: 'number',
      aliases: ['max', 'max mark', 'out of', 'maximum', 'μέγιστος βαθμός', 'άριστα'],
    },
    NOTES,
  ],
  highlights: [
    STUDENT_REF,
    { name: 'semester', kind: 'text', required: true, aliases: ['term', 'εξάμηνο', 'περίοδος'] },
    { name: 'rating', kind: 'integer', aliases: ['stars', 'αξιολόγηση', 'βαθμός'] },
    { name: 'category', kind: 'text', aliases: ['type', 'κατηγορία', 'τύπος'] },
    {
      name: 'highlight_text',
      kind: 'text',
      required: true,
      aliases: ['highlight', 'text', 'comment', 'description', 'σχόλιο', 'κείμενο', 'περιγραφή'],
    },
    {
      name: 'is_positive',
      kind: 'boolean',
      aliases: ['positive', 'θετική', 'θετικό', 'θετικός'],
    },
    {
      name: 'date_created',
      kind: 'date',
      aliases: ['date', 'created', 'created on', 'ημερομηνία'],
    },
  ],
};

/** Required and optional fields of each import type, for docs, the preview and messages. */
export const IMPORT_FIELDS: Record<ImportType, { required: string[]; optional: string[] }> =
  Object.fromEntries(
    Object.entries(FIELD_SPECS).map(([type, specs]) => [
      type,
      {
        required: specs.filter((s) => s.required).map((s) => s.name),
        optional: specs.filter((s) => !s.required).map((s) => s.name),
      },
    ]),
  ) as Record<ImportType, { required: string[]; optional: string[] }>;

/** Fields of an import type by name. */
export const FIELD_BY_NAME: Record<ImportType, Map<string, FieldSpec>> = Object.fromEntries(
  Object.entries(FIELD_SPECS).map(([type, specs]) => [
    type,
    new Map(specs.map((s) => [s.name, s])),
  ]),
) as Record<ImportType, Map<string, FieldSpec>>;
