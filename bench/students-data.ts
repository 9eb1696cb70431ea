// Realistic, reproducible students for the API benchmark: a Greek school with some English
// names, e-mails transliterated to Latin the way schools issue them.
import type { students } from '../src/modules/students/students.table.ts';

export type StudentInsert = typeof students.$inferInsert;

/** A small deterministic PRNG (mulberry32), so every run seeds and asks the same things. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function pick<T>(next: () => number, items: readonly T[]): T {
  const item = items[Math.floor(next() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

const greekMale = [
  'Γιώργος',
  'Δημήτρης',
  'Κωνσταντίνος',
  'Νίκος',
  'Ιωάννης',
  'Παναγιώτης',
  'Βασίλης',
  'Χρήστος',
  'Αθανάσιος',
  'Μιχάλης',
  'Ευάγγελος',
  'Σπύρος',
  'Αντώνης',
  'Ηλίας',
  'Στέλιος',
  'Θοδωρής',
  'Άγγελος',
  'Πέτρος',
];
const greekFemale = [
  'Μαρία',
  'Ελένη',
  'Αικατερίνη',
  'Βασιλική',
  'Σοφία',
  'Αγγελική',
  'Γεωργία',
  'Δήμητρα',
  'Κωνσταντίνα',
  'Χριστίνα',
  'Ευαγγελία',
  'Ιωάννα',
  'Παναγιώτα',
  'Αναστασία',
  'Ειρήνη',
  'Δέσποινα',
  'Φωτεινή',
];
/** Male and female forms of Greek surnames. */
const greekSurnames: ReadonlyArray<readonly [string, string]> = [
  ['Παπαδόπουλος', 'Παπαδοπούλου'],
  ['Παπαδάκης', 'Παπαδάκη'],
  ['Γεωργίου', 'Γεωργίου'],
  ['Οικονόμου', 'Οικονόμου'],
  ['Παπαγεωργίου', 'Παπαγεωργίου'],
  ['Νικολάου', 'Νικολάου'],
  ['Βασιλείου', 'Βασιλείου'],
  ['Ιωάννου', 'Ιωάννου'],
  ['Κωνσταντίνου', 'Κωνσταντίνου'],
  ['Δημητρίου', 'Δημητρίου'],
  ['Αθανασίου', 'Αθανασίου'],
  ['Χριστοδούλου', 'Χριστοδούλου'],
  ['Μακρής', 'Μακρή'],
  ['Παππάς', 'Παππά'],
  ['Αντωνίου', 'Αντωνίου'],
  ['Καραγιάννης', 'Καραγιάννη'],
  ['Λαμπρόπουλος', 'Λαμπροπούλου'],
  ['Αλεξίου', 'Αλεξίου'],
  ['Σταματόπουλος', 'Σταματοπούλου'],
  ['Μιχαηλίδης', 'Μιχαηλίδου'],
  ['Ζαχαρίου', 'Ζαχαρίου'],
  ['Κυριακίδης', 'Κυριακίδου'],
  ['Πετρόπουλος', 'Πετροπούλου'],
  ['Τσιρίγος', 'Τσιρίγου'],
  ['Ραφαηλίδης', 'Ραφαηλίδου'],
  ['Μπακάλης', 'Μπακάλη'],
  ['Χατζηδάκης', 'Χατζηδάκη'],
  ['Σαββίδης', 'Σαββίδου'],
];
const englishFirst = [
  'James',
  'Oliver',
  'Jack',
  'Harry',
  'George',
  'Thomas',
  'William',
  'Noah',
  'Leo',
  'Daniel',
  'Emily',
  'Olivia',
  'Amelia',
  'Isla',
  'Ava',
  'Sophie',
  'Grace',
  'Chloe',
  'Lucy',
  'Ella',
];
const englishSurnames = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Robinson',
  'Wright',
  'Thompson',
  'Evans',
  'Walker',
  'White',
  'Roberts',
  'Green',
  'Hall',
  'Wood',
  'Jackson',
  'Clarke',
];

const greekToLatin: Record<string, string> = {
  α: 'a',
  ά: 'a',
  β: 'v',
  γ: 'g',
  δ: 'd',
  ε: 'e',
  έ: 'e',
  ζ: 'z',
  η: 'i',
  ή: 'i',
  θ: 'th',
  ι: 'i',
  ί: 'i',
  ϊ: 'i',
  ΐ: 'i',
  κ: 'k',
  λ: 'l',
  μ: 'm',
  ν: 'n',
  ξ: 'x',
  ο: 'o',
  ό: 'o',
  π: 'p',
  ρ: 'r',
  σ: 's',
  ς: 's',
  τ: 't',
  υ: 'y',
  ύ: 'y',
  ϋ: 'y',
  ΰ: 'y',
  φ: 'f',
  χ: 'ch',
  ψ: 'ps',
  ω: 'o',
  ώ: 'o',
};

/** Greek to Latin as school e-mail addresses spell names (ου → ou). */
export function transliterate(text: string): string {
  const lower = text.toLowerCase().replace(/ου|ού/g, 'ou').replace(/μπ/g, 'b');
  return [...lower].map((char) => greekToLatin[char] ?? char).join('');
}

const ID_LETTERS = 'ABEHIKMNOPTXYZ';

/**
 * `count` students: about 75% Greek and 25% English names, study years 1 to 4, 5% inactive,
 * 10% without an e-mail address. Unique student ids (ID card style, AK123456) and e-mails.
 */
export function makeStudents(count: number, seed = 20_250_901): StudentInsert[] {
  const next = random(seed);
  const usedIds = new Set<string>();
  const rows: StudentInsert[] = [];
  for (let index = 0; index < count; index += 1) {
    const greek = next() < 0.75;
    const female = next() < 0.5;
    let first: string;
    let last: string;
    let father: string | null;
    if (greek) {
      first = pick(next, female ? greekFemale : greekMale);
      const [male, femaleForm] = pick(next, greekSurnames);
      last = female ? femaleForm : male;
      father = pick(next, greekMale);
    } else {
      first = pick(next, englishFirst);
      last = pick(next, englishSurnames);
      father = next() < 0.5 ? pick(next, englishFirst.slice(0, 10)) : null;
    }
    let studentId: string;
    do {
      studentId = `${pick(next, [...ID_LETTERS])}${pick(next, [...ID_LETTERS])}${String(
        Math.floor(next() * 1_000_000),
      ).padStart(6, '0')}`;
    } while (usedIds.has(studentId));
    usedIds.add(studentId);
    const studyYear = 1 + Math.floor(next() * 4);
    const entryYear = 2025 - studyYear + 1;
    rows.push({
      student_id: studentId,
      first_name: first,
      last_name: last,
      email:
        next() < 0.9
          ? `${transliterate(first).slice(0, 1)}.${transliterate(last)}.${index + 1}@school.test`
          : null,
      father_name: father,
      mobile_phone: `69${String(Math.floor(next() * 100_000_000)).padStart(8, '0')}`,
      phone: next() < 0.4 ? `210${String(Math.floor(next() * 10_000_000)).padStart(7, '0')}` : null,
      study_year: studyYear,
      enrollment_date: `${entryYear}-09-${String(1 + Math.floor(next() * 14)).padStart(2, '0')}`,
      is_active: next() >= 0.05,
      academic_year: '2025-2026',
      class_division: `${'ΑΒΓΔ'[studyYear - 1]}${1 + Math.floor(next() * 4)}`,
      health_issue: next() < 0.03 ? 'Αλλεργία στη γύρη' : null,
      note: null,
    });
  }
  return rows;
}

/**
 * What a secretary types in the search box: name starts in Greek and English (surnames,
 * first names, one lower-case Greek), a fragment of an e-mail, digits of an ID number, a
 * two-letter fragment (too short for the trigram index) and a name nobody has.
 */
export const SEARCH_TERMS = [
  'Παπαδ',
  'Γεωργ',
  'Μαρία',
  'Νικολ',
  'Κωνσταντ',
  'Ελένη',
  'Οικον',
  'Χατζη',
  'παπαδ',
  'Smith',
  'Oliv',
  'Thomp',
  'john',
  'Grace',
  'papad',
  '4521',
  'ou',
  'Zwolinski',
] as const;
