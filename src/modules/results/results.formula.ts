import type { EvaluationRule } from '../courses/courses.table.ts';
import { type GradeBand, letterFor } from './grade-scale.ts';

/** What the formula reads of one grade. */
export interface GradeInput {
  category: string | null;
  grade: number;
  max_grade: number;
  weight: number;
}

/** Attendance marks of one student in one course, by status. */
export interface AttendanceCounts {
  present: number;
  late: number;
  absent: number;
  excused: number;
}

export interface ResultInput {
  rules: readonly EvaluationRule[];
  absencePenalty: number;
  grades: readonly GradeInput[];
  attendance: AttendanceCounts;
  /** Each daily performance's score / max_score (those with max_score > 0). */
  performanceRatios: readonly number[];
  scale: readonly GradeBand[];
}

// A type, not an interface: rows of it go to insertFromJson as plain records.
export type ComputedResult = {
  weighted_percentage: number | null;
  absence_penalty: number;
  final_percentage: number | null;
  letter_grade: string | null;
  /** The grades that counted. */
  grade_count: number;
  present_count: number;
  late_count: number;
  absent_count: number;
  excused_count: number;
  attendance_rate: number | null;
  excused_rate: number | null;
  average_performance: number | null;
};

/** Percentages are kept to two decimals; the letter is read from the rounded final. */
export const round2 = (value: number) => Math.round(value * 100) / 100;

/** Categories are matched as teachers type them: trimmed, any case. */
const categoryKey = (category: string | null) => (category ?? '').trim().toLowerCase();

/**
 * The weighted percentage of a student's grades in one course, or null when no grade counts.
 * With rules, each rule category's percentage is the weight-weighted mean of grade/max_grade;
 * categories are combined by their rule weights, renormalised over the categories that have
 * grades (so missing categories and weights that do not sum to 100 both work out). Grades
 * outside the rule categories are ignored. Without rules every grade counts in one category.
 * A grade with max_grade 0 (or less), or a weight of 0, is left out.
 */
export function weightedPercentage(
  rules: readonly EvaluationRule[],
  grades: readonly GradeInput[],
): { percentage: number | null; counted: number } {
  const usable = grades.filter((grade) => grade.max_grade > 0 && grade.weight > 0);
  const ruleWeights = new Map<string, number>();
  for (const rule of rules) {
    if (rule.weight <= 0) continue;
    const key = categoryKey(rule.category);
    ruleWeights.set(key, (ruleWeights.get(key) ?? 0) + rule.weight);
  }
  const byCategory = new Map<string, { points: number; weight: number }>();
  let counted = 0;
  for (const grade of usable) {
    const key = ruleWeights.size > 0 ? categoryKey(grade.category) : '';
    if (ruleWeights.size > 0 && !ruleWeights.has(key)) continue;
    const sums = byCategory.get(key) ?? { points: 0, weight: 0 };
    sums.points += grade.weight * (grade.grade / grade.max_grade);
    sums.weight += grade.weight;
    byCategory.set(key, sums);
    counted += 1;
  }
  if (counted === 0) return { percentage: null, counted };
  let total = 0;
  let weights = 0;
  for (const [key, sums] of byCategory) {
    const categoryWeight = ruleWeights.size > 0 ? (ruleWeights.get(key) ?? 0) : 1;
    total += categoryWeight * ((sums.points / sums.weight) * 100);
    weights += categoryWeight;
  }
  return { percentage: total / weights, counted };
}

/** A student's result in one course from its inputs: the formula the recompute job applies. */
export function computeResult(input: ResultInput): ComputedResult {
  const { percentage, counted } = weightedPercentage(input.rules, input.grades);
  const { present, late, absent, excused } = input.attendance;
  const penalty = round2(Math.max(0, input.absencePenalty) * absent);
  const weighted = percentage === null ? null : round2(percentage);
  const final = weighted === null ? null : round2(Math.max(0, weighted - penalty));
  const periods = present + late + absent + excused;
  const ratios = input.performanceRatios;
  return {
    weighted_percentage: weighted,
    absence_penalty: penalty,
    final_percentage: final,
    letter_grade: final === null ? null : letterFor(final, input.scale),
    grade_count: counted,
    present_count: present,
    late_count: late,
    absent_count: absent,
    excused_count: excused,
    attendance_rate: periods > 0 ? round2(((present + late) / periods) * 100) : null,
    excused_rate: periods > 0 ? round2((excused / periods) * 100) : null,
    average_performance:
      ratios.length > 0
        ? round2((ratios.reduce((sum, ratio) => sum + ratio, 0) / ratios.length) * 100)
        : null,
  };
}

export interface ClassStatistics {
  /** Enrolled students with a result row. */
  students: number;
  /** Students with a final percentage (the others have no grades yet). */
  count: number;
  mean: number | null;
  median: number | null;
  min: number | null;
  max: number | null;
  /** Students per letter, in the scale's order (letters nobody earned included). */
  distribution: Array<{ letter: string; count: number }>;
  /** Students without a final percentage. */
  ungraded: number;
}

/** Mean, median, range and letter distribution of a course's final percentages. */
export function classStatistics(
  results: ReadonlyArray<{ final_percentage: number | null; letter_grade: string | null }>,
  scale: readonly GradeBand[],
): ClassStatistics {
  const finals = results
    .map((result) => result.final_percentage)
    .filter((value): value is number => value !== null)
    .sort((a, b) => a - b);
  const letters = new Map(scale.map((band) => [band.letter, 0]));
  for (const result of results) {
    // A letter from an older scale (not recomputed yet) still counts, after the scale's own.
    if (result.letter_grade !== null) {
      letters.set(result.letter_grade, (letters.get(result.letter_grade) ?? 0) + 1);
    }
  }
  const middle = Math.floor(finals.length / 2);
  const median =
    finals.length === 0
      ? null
      : finals.length % 2 === 1
        ? (finals[middle] as number)
        : ((finals[middle - 1] as number) + (finals[middle] as number)) / 2;
  return {
    students: results.length,
    count: finals.length,
    mean:
      finals.length === 0
        ? null
        : round2(finals.reduce((sum, value) => sum + value, 0) / finals.length),
    median: median === null ? null : round2(median),
    min: finals[0] ?? null,
    max: finals[finals.length - 1] ?? null,
    distribution: [...letters].map(([letter, count]) => ({ letter, count })),
    ungraded: results.length - finals.length,
  };
}
