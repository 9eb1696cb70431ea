/**
 * Name lists, course catalogue and text templates for the demo school (`registrar seed --demo`).
 * Only data lives here; the seed logic that combines it is in demo-seed.ts.
 */

export const DEMO_ACADEMIC_YEAR = '2025-2026';
export const DEMO_STUDENT_ID_PREFIX = 'ST2025-';
export const DEMO_EMAIL_DOMAIN = 'students.example.org';

/** Greek male first names as used day to day, with the formal form a father's name takes. */
export const GREEK_MALE_FIRST_NAMES = [
  'Γιώργος',
  'Δημήτρης',
  'Κωνσταντίνος',
  'Νίκος',
  'Γιάννης',
  'Χρήστος',
  'Παναγιώτης',
  'Βασίλης',
  'Θανάσης',
  'Μιχάλης',
  'Βαγγέλης',
  'Σπύρος',
  'Αντώνης',
  'Ηλίας',
  'Στέφανος',
  'Αλέξανδρος',
  'Θοδωρής',
  'Μανώλης',
  'Πέτρος',
  'Άγγελος',
  'Λευτέρης',
  'Σταύρος',
  'Φίλιππος',
  'Άρης',
] as const;

export const GREEK_FEMALE_FIRST_NAMES = [
  'Μαρία',
  'Ελένη',
  'Αικατερίνη',
  'Βασιλική',
  'Σοφία',
  'Αγγελική',
  'Γεωργία',
  'Δήμητρα',
  'Κωνσταντίνα',
  'Παρασκευή',
  'Ιωάννα',
  'Χριστίνα',
  'Ευαγγελία',
  'Αναστασία',
  'Δέσποινα',
  'Ειρήνη',
  'Φωτεινή',
  'Αθηνά',
  'Νεφέλη',
  'Δανάη',
  'Ζωή',
  'Κατερίνα',
  'Μυρτώ',
  'Αλεξάνδρα',
] as const;

/** Fathers' names are written in their formal form on school records. */
export const GREEK_FATHER_NAMES = [
  'Γεώργιος',
  'Δημήτριος',
  'Κωνσταντίνος',
  'Νικόλαος',
  'Ιωάννης',
  'Χρήστος',
  'Παναγιώτης',
  'Βασίλειος',
  'Αθανάσιος',
  'Μιχαήλ',
  'Ευάγγελος',
  'Σπυρίδων',
  'Αντώνιος',
  'Ηλίας',
  'Στέφανος',
  'Αλέξανδρος',
  'Θεόδωρος',
  'Εμμανουήλ',
  'Πέτρος',
  'Ελευθέριος',
  'Σταύρος',
  'Απόστολος',
] as const;

/** Greek surnames in their male and female forms. */
export const GREEK_SURNAMES: readonly (readonly [male: string, female: string])[] = [
  ['Παπαδόπουλος', 'Παπαδοπούλου'],
  ['Παπαδάκης', 'Παπαδάκη'],
  ['Γεωργίου', 'Γεωργίου'],
  ['Νικολάου', 'Νικολάου'],
  ['Οικονόμου', 'Οικονόμου'],
  ['Παπανικολάου', 'Παπανικολάου'],
  ['Βασιλείου', 'Βασιλείου'],
  ['Αθανασίου', 'Αθανασίου'],
  ['Ιωάννου', 'Ιωάννου'],
  ['Καραγιάννης', 'Καραγιάννη'],
  ['Κωνσταντινίδης', 'Κωνσταντινίδου'],
  ['Δημητρίου', 'Δημητρίου'],
  ['Μακρής', 'Μακρή'],
  ['Αλεξίου', 'Αλεξίου'],
  ['Πετρόπουλος', 'Πετροπούλου'],
  ['Χατζηδάκης', 'Χατζηδάκη'],
  ['Σταματόπουλος', 'Σταματοπούλου'],
  ['Αντωνίου', 'Αντωνίου'],
  ['Κυριακίδης', 'Κυριακίδου'],
  ['Μαυρίδης', 'Μαυρίδου'],
  ['Ζαχαρίου', 'Ζαχαρίου'],
  ['Λαμπράκης', 'Λαμπράκη'],
  ['Τσακίρης', 'Τσακίρη'],
  ['Αναγνωστόπουλος', 'Αναγνωστοπούλου'],
  ['Φραγκιαδάκης', 'Φραγκιαδάκη'],
  ['Σαρρής', 'Σαρρή'],
  ['Πολυχρόνης', 'Πολυχρόνη'],
  ['Ραφαηλίδης', 'Ραφαηλίδου'],
  ['Μπακογιάννης', 'Μπακογιάννη'],
  ['Ντόκας', 'Ντόκα'],
  ['Βλάχος', 'Βλάχου'],
  ['Κουτσούκος', 'Κουτσούκου'],
];

export const ENGLISH_MALE_FIRST_NAMES = [
  'James',
  'Oliver',
  'William',
  'Henry',
  'Thomas',
  'Daniel',
  'Samuel',
  'Michael',
  'Jack',
  'Benjamin',
  'Lucas',
  'Ethan',
  'Noah',
  'Adam',
  'Ryan',
  'David',
] as const;

export const ENGLISH_FEMALE_FIRST_NAMES = [
  'Olivia',
  'Emma',
  'Charlotte',
  'Amelia',
  'Sophie',
  'Grace',
  'Emily',
  'Hannah',
  'Chloe',
  'Lucy',
  'Isabella',
  'Ella',
  'Jessica',
  'Alice',
  'Lily',
  'Sarah',
] as const;

export const ENGLISH_FATHER_NAMES = [
  'John',
  'Robert',
  'Richard',
  'Peter',
  'Mark',
  'Paul',
  'Andrew',
  'Stephen',
  'Christopher',
  'Edward',
  'George',
  'Anthony',
] as const;

export const ENGLISH_SURNAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Taylor',
  'Wilson',
  'Davies',
  'Evans',
  'Thomas',
  'Roberts',
  'Walker',
  'Wright',
  'Thompson',
  'White',
  'Hughes',
  'Edwards',
  'Green',
  'Hall',
  'Wood',
  'Harris',
  'Clarke',
  'Turner',
  'Mitchell',
  'Carter',
] as const;

/** Greek mobile prefixes (69x) and landline area codes. */
export const GREEK_MOBILE_PREFIXES = ['690', '693', '694', '695', '697', '698', '699'] as const;
export const GREEK_LANDLINE_AREAS = ['210', '2310', '2610', '2810', '2410'] as const;

export const HEALTH_ISSUES = [
  'Asthma; carries an inhaler',
  'Peanut allergy',
  'Type 1 diabetes',
  'Αλλεργία στη γύρη',
  'Δυσλεξία: επιπλέον χρόνος στις εξετάσεις',
  'Epilepsy; emergency plan on file',
  'Ήπια μυωπία: κάθεται στα μπροστινά θρανία',
] as const;

export const STUDENT_NOTES = [
  'Erasmus exchange student in the spring semester',
  'Class representative',
  'Member of the school robotics team',
  'Μέλος της χορωδίας',
  'Υπότροφος (υποτροφία αριστείας)',
  'Transferred from another school in 2024',
  'Parents prefer contact by e-mail',
] as const;

export const INACTIVE_NOTE = 'Withdrew during the academic year';

/** The two semesters of the demo year: teaching weeks, and the days the school is closed. */
export interface DemoSemester {
  label: string;
  /** Monday of the first teaching week. */
  firstMonday: string;
  teachingWeeks: number;
  /** Students enrol in the week before teaching starts. */
  enrollmentOpens: string;
  /** Final exams start on this date. */
  examsStart: string;
}

export const DEMO_SEMESTERS = [
  {
    label: 'Fall 2025',
    firstMonday: '2025-10-06',
    teachingWeeks: 8,
    enrollmentOpens: '2025-09-29',
    examsStart: '2026-01-19',
  },
  {
    label: 'Spring 2026',
    firstMonday: '2026-02-16',
    teachingWeeks: 8,
    enrollmentOpens: '2026-02-09',
    examsStart: '2026-06-08',
  },
] as const satisfies readonly DemoSemester[];

export type DemoSemesterLabel = (typeof DEMO_SEMESTERS)[number]['label'];

/** Public holidays inside the teaching weeks: no lessons, so no attendance. */
export const SCHOOL_HOLIDAYS: ReadonlySet<string> = new Set([
  '2025-10-28', // Ohi Day
  '2025-11-17', // Polytechnic uprising
  '2026-02-23', // Clean Monday
  '2026-03-25', // Independence Day
]);

export type WeekDay = 'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday';
export const WEEK_DAY_OFFSET: Record<WeekDay, number> = {
  Monday: 0,
  Tuesday: 1,
  Wednesday: 2,
  Thursday: 3,
  Friday: 4,
};

/**
 * When a grade category is graded: mid-semester, in the exam period, at the end of the
 * teaching weeks, or spread evenly over them; and how many graded items it has.
 */
export type CategoryTiming = 'midterm' | 'exam' | 'end' | 'spread';
export interface GradeCategory {
  timing: CategoryTiming;
  items: number;
  itemName: string;
}

export const GRADE_CATEGORIES = {
  Midterm: { timing: 'midterm', items: 1, itemName: 'Midterm Exam' },
  Final: { timing: 'exam', items: 1, itemName: 'Final Exam' },
  Homework: { timing: 'spread', items: 3, itemName: 'Homework' },
  Lab: { timing: 'spread', items: 4, itemName: 'Lab' },
  Quiz: { timing: 'spread', items: 3, itemName: 'Quiz' },
  Project: { timing: 'end', items: 1, itemName: 'Project' },
  Essay: { timing: 'end', items: 1, itemName: 'Essay' },
  Participation: { timing: 'end', items: 1, itemName: 'Participation' },
} as const satisfies Record<string, GradeCategory>;

export type GradeCategoryName = keyof typeof GRADE_CATEGORIES;

export interface DemoCourse {
  course_code: string;
  course_name: string;
  semester: DemoSemesterLabel;
  /** The study year the course is meant for; students of that year pick it more often. */
  level: 1 | 2 | 3 | 4;
  credits: number;
  description: string;
  /** Weights sum to 100. */
  evaluation_rules: readonly { category: GradeCategoryName; weight: number }[];
  absence_penalty: number;
  /** Greek-style courses grade out of 20, the others out of 100. */
  max_grade: 20 | 100;
  teaching_schedule: readonly {
    day: WeekDay;
    start_time: string;
    end_time: string;
    room: string;
  }[];
}

const MID_FINAL_HW = [
  { category: 'Midterm', weight: 30 },
  { category: 'Final', weight: 50 },
  { category: 'Homework', weight: 20 },
] as const;

export const DEMO_COURSES: readonly DemoCourse[] = [
  // Fall 2025
  {
    course_code: 'CS101',
    course_name: 'Introduction to Programming',
    semester: 'Fall 2025',
    level: 1,
    credits: 6,
    description: 'Variables, control flow, functions and basic data structures in Python.',
    evaluation_rules: [
      { category: 'Lab', weight: 30 },
      { category: 'Midterm', weight: 20 },
      { category: 'Final', weight: 50 },
    ],
    absence_penalty: 0.5,
    max_grade: 100,
    teaching_schedule: [
      { day: 'Monday', start_time: '09:00', end_time: '11:00', room: 'A101' },
      { day: 'Thursday', start_time: '11:00', end_time: '13:00', room: 'Lab 1' },
    ],
  },
  {
    course_code: 'MATH101',
    course_name: 'Απειροστικός Λογισμός Ι',
    semester: 'Fall 2025',
    level: 1,
    credits: 6,
    description: 'Όρια, συνέχεια, παράγωγοι και ολοκληρώματα συναρτήσεων μίας μεταβλητής.',
    evaluation_rules: MID_FINAL_HW,
    absence_penalty: 0,
    max_grade: 20,
    teaching_schedule: [
      { day: 'Tuesday', start_time: '09:00', end_time: '11:00', room: 'B201' },
      { day: 'Friday', start_time: '09:00', end_time: '11:00', room: 'B201' },
    ],
  },
  {
    course_code: 'MATH111',
    course_name: 'Γραμμική Άλγεβρα',
    semester: 'Fall 2025',
    level: 1,
    credits: 5,
    description: 'Διανυσματικοί χώροι, πίνακες, ορίζουσες, ιδιοτιμές και ιδιοδιανύσματα.',
    evaluation_rules: [
      { category: 'Midterm', weight: 40 },
      { category: 'Final', weight: 60 },
    ],
    absence_penalty: 0,
    max_grade: 20,
    teaching_schedule: [{ day: 'Wednesday', start_time: '11:00', end_time: '14:00', room: 'B202' }],
  },
  {
    course_code: 'PHYS101',
    course_name: 'Physics I: Mechanics',
    semester: 'Fall 2025',
    level: 1,
    credits: 5,
    description: "Kinematics, Newton's laws, energy, momentum and rotational motion.",
    evaluation_rules: [
      { category: 'Quiz', weight: 15 },
      { category: 'Lab', weight: 25 },
      { category: 'Final', weight: 60 },
    ],
    absence_penalty: 1,
    max_grade: 100,
    teaching_schedule: [
      { day: 'Monday', start_time: '12:00', end_time: '14:00', room: 'C105' },
      { day: 'Wednesday', start_time: '09:00', end_time: '10:00', room: 'Lab 2' },
    ],
  },
  {
    course_code: 'ENG101',
    course_name: 'Academic English',
    semester: 'Fall 2025',
    level: 1,
    credits: 3,
    description: 'Academic reading, essay writing and presentation skills.',
    evaluation_rules: [
      { category: 'Participation', weight: 20 },
      { category: 'Essay', weight: 40 },
      { category: 'Final', weight: 40 },
    ],
    absence_penalty: 1,
    max_grade: 100,
    teaching_schedule: [{ day: 'Thursday', start_time: '14:00', end_time: '16:00', room: 'A103' }],
  },
  {
    course_code: 'HIST201',
    course_name: 'Νεότερη Ελληνική Ιστορία',
    semester: 'Fall 2025',
    level: 2,
    credits: 4,
    description: 'Από την Επανάσταση του 1821 έως τη Μεταπολίτευση.',
    evaluation_rules: [
      { category: 'Essay', weight: 30 },
      { category: 'Final', weight: 70 },
    ],
    absence_penalty: 0.5,
    max_grade: 20,
    teaching_schedule: [
      { day: 'Tuesday', start_time: '14:00', end_time: '17:00', room: 'Amphi 1' },
    ],
  },
  {
    course_code: 'CS201',
    course_name: 'Data Structures',
    semester: 'Fall 2025',
    level: 2,
    credits: 6,
    description: 'Lists, stacks, queues, trees, hash tables and graphs, with complexity analysis.',
    evaluation_rules: [
      { category: 'Homework', weight: 25 },
      { category: 'Midterm', weight: 25 },
      { category: 'Final', weight: 50 },
    ],
    absence_penalty: 0.5,
    max_grade: 100,
    teaching_schedule: [
      { day: 'Tuesday', start_time: '11:00', end_time: '13:00', room: 'A102' },
      { day: 'Thursday', start_time: '09:00', end_time: '11:00', room: 'A102' },
    ],
  },
  {
    course_code: 'CS231',
    course_name: 'Βάσεις Δεδομένων',
    semester: 'Fall 2025',
    level: 3,
    credits: 6,
    description: 'Σχεσιακό μοντέλο, SQL, κανονικοποίηση, ευρετήρια και συναλλαγές.',
    evaluation_rules: [
      { category: 'Project', weight: 40 },
      { category: 'Final', weight: 60 },
    ],
    absence_penalty: 0,
    max_grade: 20,
    teaching_schedule: [
      { day: 'Wednesday', start_time: '14:00', end_time: '16:00', room: 'Lab 1' },
      { day: 'Friday', start_time: '11:00', end_time: '13:00', room: 'A101' },
    ],
  },
  {
    course_code: 'ECON101',
    course_name: 'Principles of Economics',
    semester: 'Fall 2025',
    level: 2,
    credits: 4,
    description: 'Supply and demand, markets, inflation, unemployment and monetary policy.',
    evaluation_rules: MID_FINAL_HW,
    absence_penalty: 0,
    max_grade: 100,
    teaching_schedule: [{ day: 'Friday', start_time: '14:00', end_time: '17:00', room: 'Amphi 2' }],
  },
  {
    course_code: 'CS341',
    course_name: 'Operating Systems',
    semester: 'Fall 2025',
    level: 4,
    credits: 6,
    description: 'Processes, threads, scheduling, memory management and file systems.',
    evaluation_rules: [
      { category: 'Lab', weight: 30 },
      { category: 'Midterm', weight: 20 },
      { category: 'Final', weight: 50 },
    ],
    absence_penalty: 0.5,
    max_grade: 100,
    teaching_schedule: [
      { day: 'Monday', start_time: '14:00', end_time: '16:00', room: 'C105' },
      { day: 'Wednesday', start_time: '16:00', end_time: '18:00', room: 'Lab 2' },
    ],
  },
  // Spring 2026
  {
    course_code: 'CS102',
    course_name: 'Object-Oriented Programming',
    semester: 'Spring 2026',
    level: 1,
    credits: 6,
    description: 'Classes, interfaces, inheritance, composition and testing in Java.',
    evaluation_rules: [
      { category: 'Lab', weight: 30 },
      { category: 'Project', weight: 30 },
      { category: 'Final', weight: 40 },
    ],
    absence_penalty: 0.5,
    max_grade: 100,
    teaching_schedule: [
      { day: 'Monday', start_time: '09:00', end_time: '11:00', room: 'A101' },
      { day: 'Thursday', start_time: '11:00', end_time: '13:00', room: 'Lab 1' },
    ],
  },
  {
    course_code: 'MATH102',
    course_name: 'Απειροστικός Λογισμός ΙΙ',
    semester: 'Spring 2026',
    level: 1,
    credits: 6,
    description: 'Σειρές, συναρτήσεις πολλών μεταβλητών, πολλαπλά ολοκληρώματα.',
    evaluation_rules: MID_FINAL_HW,
    absence_penalty: 0,
    max_grade: 20,
    teaching_schedule: [
      { day: 'Tuesday', start_time: '09:00', end_time: '11:00', room: 'B201' },
      { day: 'Friday', start_time: '09:00', end_time: '11:00', room: 'B201' },
    ],
  },
  {
    course_code: 'STAT201',
    course_name: 'Πιθανότητες και Στατιστική',
    semester: 'Spring 2026',
    level: 2,
    credits: 5,
    description: 'Τυχαίες μεταβλητές, κατανομές, εκτίμηση παραμέτρων και έλεγχοι υποθέσεων.',
    evaluation_rules: [
      { category: 'Quiz', weight: 20 },
      { category: 'Midterm', weight: 30 },
      { category: 'Final', weight: 50 },
    ],
    absence_penalty: 0,
    max_grade: 20,
    teaching_schedule: [{ day: 'Wednesday', start_time: '11:00', end_time: '14:00', room: 'B202' }],
  },
  {
    course_code: 'PHYS102',
    course_name: 'Physics II: Electricity and Magnetism',
    semester: 'Spring 2026',
    level: 1,
    credits: 5,
    description: "Electric fields, circuits, magnetism and Maxwell's equations.",
    evaluation_rules: [
      { category: 'Quiz', weight: 15 },
      { category: 'Lab', weight: 25 },
      { category: 'Final', weight: 60 },
    ],
    absence_penalty: 1,
    max_grade: 100,
    teaching_schedule: [
      { day: 'Monday', start_time: '12:00', end_time: '14:00', room: 'C105' },
      { day: 'Wednesday', start_time: '09:00', end_time: '10:00', room: 'Lab 2' },
    ],
  },
  {
    course_code: 'CS202',
    course_name: 'Algorithms',
    semester: 'Spring 2026',
    level: 2,
    credits: 6,
    description: 'Sorting, divide and conquer, greedy algorithms, dynamic programming, graphs.',
    evaluation_rules: [
      { category: 'Homework', weight: 30 },
      { category: 'Midterm', weight: 20 },
      { category: 'Final', weight: 50 },
    ],
    absence_penalty: 0.5,
    max_grade: 100,
    teaching_schedule: [
      { day: 'Tuesday', start_time: '11:00', end_time: '13:00', room: 'A102' },
      { day: 'Thursday', start_time: '09:00', end_time: '11:00', room: 'A102' },
    ],
  },
  {
    course_code: 'CS241',
    course_name: 'Δίκτυα Υπολογιστών',
    semester: 'Spring 2026',
    level: 3,
    credits: 5,
    description: 'Το μοντέλο TCP/IP, δρομολόγηση, πρωτόκολλα μεταφοράς και εφαρμογών.',
    evaluation_rules: [
      { category: 'Lab', weight: 30 },
      { category: 'Final', weight: 70 },
    ],
    absence_penalty: 0.5,
    max_grade: 20,
    teaching_schedule: [
      { day: 'Wednesday', start_time: '14:00', end_time: '16:00', room: 'Lab 1' },
      { day: 'Friday', start_time: '11:00', end_time: '13:00', room: 'A101' },
    ],
  },
  {
    course_code: 'CS301',
    course_name: 'Software Engineering',
    semester: 'Spring 2026',
    level: 3,
    credits: 6,
    description: 'Requirements, design, version control, testing and team projects.',
    evaluation_rules: [
      { category: 'Project', weight: 50 },
      { category: 'Participation', weight: 10 },
      { category: 'Final', weight: 40 },
    ],
    absence_penalty: 1,
    max_grade: 100,
    teaching_schedule: [{ day: 'Thursday', start_time: '14:00', end_time: '17:00', room: 'A103' }],
  },
  {
    course_code: 'PHIL101',
    course_name: 'Εισαγωγή στη Φιλοσοφία',
    semester: 'Spring 2026',
    level: 1,
    credits: 3,
    description: 'Από τους Προσωκρατικούς στον Πλάτωνα και τον Αριστοτέλη.',
    evaluation_rules: [
      { category: 'Essay', weight: 40 },
      { category: 'Final', weight: 60 },
    ],
    absence_penalty: 0,
    max_grade: 20,
    teaching_schedule: [
      { day: 'Tuesday', start_time: '14:00', end_time: '16:00', room: 'Amphi 1' },
    ],
  },
  {
    course_code: 'ECON201',
    course_name: 'Financial Accounting',
    semester: 'Spring 2026',
    level: 2,
    credits: 4,
    description: 'Balance sheets, income statements, cash flows and financial ratios.',
    evaluation_rules: MID_FINAL_HW,
    absence_penalty: 0,
    max_grade: 100,
    teaching_schedule: [{ day: 'Friday', start_time: '14:00', end_time: '17:00', room: 'Amphi 2' }],
  },
  {
    course_code: 'CS442',
    course_name: 'Machine Learning',
    semester: 'Spring 2026',
    level: 4,
    credits: 6,
    description: 'Regression, classification, neural networks and model evaluation.',
    evaluation_rules: [
      { category: 'Homework', weight: 30 },
      { category: 'Project', weight: 30 },
      { category: 'Final', weight: 40 },
    ],
    absence_penalty: 0.5,
    max_grade: 100,
    teaching_schedule: [
      { day: 'Monday', start_time: '14:00', end_time: '16:00', room: 'C105' },
      { day: 'Wednesday', start_time: '16:00', end_time: '18:00', room: 'Lab 2' },
    ],
  },
];

export const ABSENCE_NOTES = {
  Excused: ['Medical certificate', 'Ιατρική βεβαίωση', 'Family reason', 'School sports event'],
  Late: ['Bus delay', 'Late by 10 minutes', 'Καθυστέρηση λεωφορείου'],
} as const;

export const PERFORMANCE_CATEGORIES = ['Participation', 'Oral', 'Classwork', 'Homework'] as const;

export const PERFORMANCE_NOTES = [
  'Very good contribution to the discussion',
  'Needs to review the previous lesson',
  'Πολύ καλή συμμετοχή',
  'Χρειάζεται περισσότερη προσοχή',
] as const;

/**
 * Highlight texts; "{course}" becomes the course's name. Greek students get the Greek text,
 * the others the English one.
 */
export interface HighlightTemplate {
  category: string;
  en: string;
  el: string;
}

export const HIGHLIGHT_TEMPLATES: Record<'positive' | 'negative', readonly HighlightTemplate[]> = {
  positive: [
    {
      category: 'Academic',
      en: 'Outstanding result in {course}.',
      el: 'Εξαιρετική επίδοση στο μάθημα «{course}».',
    },
    {
      category: 'Participation',
      en: 'Asks thoughtful questions and helps classmates in {course}.',
      el: 'Ενεργή συμμετοχή και βοήθεια προς συμμαθητές στο μάθημα «{course}».',
    },
    {
      category: 'Leadership',
      en: 'Led the team project in {course} with great organisation.',
      el: 'Συντόνισε με επιτυχία την ομαδική εργασία στο μάθημα «{course}».',
    },
    {
      category: 'Improvement',
      en: 'Remarkable improvement since the start of the semester in {course}.',
      el: 'Σημαντική βελτίωση από την αρχή του εξαμήνου στο μάθημα «{course}».',
    },
    {
      category: 'Extracurricular',
      en: 'Represented the school at the regional science fair.',
      el: 'Εκπροσώπησε το σχολείο στον περιφερειακό διαγωνισμό επιστημών.',
    },
  ],
  negative: [
    {
      category: 'Attendance',
      en: 'Repeated unexcused absences from {course}.',
      el: 'Επανειλημμένες αδικαιολόγητες απουσίες από το μάθημα «{course}».',
    },
    {
      category: 'Academic',
      en: 'Missed homework deadlines in {course}.',
      el: 'Δεν παρέδωσε εγκαίρως τις εργασίες στο μάθημα «{course}».',
    },
    {
      category: 'Behaviour',
      en: 'Disruptive behaviour during {course}; parents informed.',
      el: 'Απρεπής συμπεριφορά κατά το μάθημα «{course}»· ενημερώθηκαν οι γονείς.',
    },
  ],
};

const GREEK_TO_LATIN: Record<string, string> = {
  α: 'a',
  β: 'v',
  γ: 'g',
  δ: 'd',
  ε: 'e',
  ζ: 'z',
  η: 'i',
  θ: 'th',
  ι: 'i',
  κ: 'k',
  λ: 'l',
  μ: 'm',
  ν: 'n',
  ξ: 'x',
  ο: 'o',
  π: 'p',
  ρ: 'r',
  σ: 's',
  ς: 's',
  τ: 't',
  υ: 'y',
  φ: 'f',
  χ: 'ch',
  ψ: 'ps',
  ω: 'o',
};

const GREEK_DIGRAPHS: readonly (readonly [string, string])[] = [
  ['ου', 'ou'],
  ['αυ', 'av'],
  ['ευ', 'ev'],
  ['γγ', 'ng'],
];

/** Lower-case ASCII for a Greek (or English) name, in the spirit of ELOT 743: Μαρία -> maria. */
export function transliterate(name: string): string {
  let text = name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  text = text.replace(/^μπ/u, 'b').replace(/^ντ/u, 'd');
  for (const [greek, latin] of GREEK_DIGRAPHS) text = text.replaceAll(greek, latin);
  let out = '';
  for (const char of text) out += GREEK_TO_LATIN[char] ?? char;
  return out.replace(/[^a-z0-9]/g, '');
}
