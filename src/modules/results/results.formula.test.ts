import { describe, expect, it } from 'vitest';
import { DEFAULT_GRADE_SCALE, gradeScaleSchema, letterFor } from './grade-scale.ts';
import {
  type AttendanceCounts,
  classStatistics,
  computeResult,
  type GradeInput,
  type ResultInput,
  weightedPercentage,
} from './results.formula.ts';

const noAttendance: AttendanceCounts = { present: 0, late: 0, absent: 0, excused: 0 };
const grade = (category: string | null, value: number, max: number, weight = 1): GradeInput => ({
  category,
  grade: value,
  max_grade: max,
  weight,
});
const input = (overrides: Partial<ResultInput>): ResultInput => ({
  rules: [],
  absencePenalty: 0,
  grades: [],
  attendance: noAttendance,
  performanceRatios: [],
  scale: DEFAULT_GRADE_SCALE,
  ...overrides,
});

// Every expected number below is worked out by hand in the comment above it.
describe('the results formula (hand-computed examples)', () => {
  it('weights categories by the rules and grades by their weight, then takes off the penalty', () => {
    // Exams: (2 × 45/50 + 1 × 30/40) / 3 = (1.8 + 0.75) / 3 = 0.85 → 85 %
    // Homework: (8/10 + 10/10) / 2 = 0.9 → 90 %
    // Weighted: (60 × 85 + 40 × 90) / 100 = 87; penalty 1.5 × 2 absences = 3; final 84 → B
    // Attendance: (15 present + 1 late) / 20 periods = 80 %; excused 2 / 20 = 10 %
    const result = computeResult(
      input({
        rules: [
          { category: 'Exams', weight: 60 },
          { category: 'Homework', weight: 40 },
        ],
        absencePenalty: 1.5,
        grades: [
          grade('Exams', 45, 50, 2),
          grade('Exams', 30, 40, 1),
          grade('Homework', 8, 10),
          grade('Homework', 10, 10),
        ],
        attendance: { present: 15, late: 1, absent: 2, excused: 2 },
        performanceRatios: [0.8, 0.6],
      }),
    );
    expect(result).toEqual({
      weighted_percentage: 87,
      absence_penalty: 3,
      final_percentage: 84,
      letter_grade: 'B',
      grade_count: 4,
      present_count: 15,
      late_count: 1,
      absent_count: 2,
      excused_count: 2,
      attendance_rate: 80,
      excused_rate: 10,
      // (0.8 + 0.6) / 2 = 70 %
      average_performance: 70,
    });
  });

  it('renormalises over the rule categories that have grades (a category is missing)', () => {
    // Project has no grade yet: (60 × 80 + 30 × 70) / (60 + 30) = 6900 / 90 = 76.666… → 76.67, C
    const result = computeResult(
      input({
        rules: [
          { category: 'Exams', weight: 60 },
          { category: 'Homework', weight: 30 },
          { category: 'Project', weight: 10 },
        ],
        grades: [grade('Exams', 80, 100), grade('Homework', 7, 10)],
      }),
    );
    expect(result.weighted_percentage).toBe(76.67);
    expect(result.final_percentage).toBe(76.67);
    expect(result.letter_grade).toBe('C');
  });

  it('normalises weights that do not sum to 100 by their sum', () => {
    // (1 × 50 + 3 × 90) / (1 + 3) = 320 / 4 = 80 → B-
    const result = computeResult(
      input({
        rules: [
          { category: 'Quiz', weight: 1 },
          { category: 'Final', weight: 3 },
        ],
        grades: [grade('Quiz', 50, 100), grade('Final', 90, 100)],
      }),
    );
    expect(result.weighted_percentage).toBe(80);
    expect(result.letter_grade).toBe('B-');
  });

  it('leaves out a grade with max_grade 0', () => {
    // Only 18/20 counts: 90 → A-
    const result = computeResult(
      input({ grades: [grade('Exams', 0, 0, 5), grade('Exams', 18, 20)] }),
    );
    expect(result).toMatchObject({
      weighted_percentage: 90,
      grade_count: 1,
      letter_grade: 'A-',
    });
    expect(computeResult(input({ grades: [grade(null, 0, 0)] }))).toMatchObject({
      weighted_percentage: null,
      grade_count: 0,
    });
  });

  it('has no percentage or letter without grades, but still counts absences', () => {
    // 2 points × 3 absences = 6; nobody was present: rate 0 %
    const result = computeResult(
      input({
        absencePenalty: 2,
        attendance: { present: 0, late: 0, absent: 3, excused: 0 },
      }),
    );
    expect(result).toEqual({
      weighted_percentage: null,
      absence_penalty: 6,
      final_percentage: null,
      letter_grade: null,
      grade_count: 0,
      present_count: 0,
      late_count: 0,
      absent_count: 3,
      excused_count: 0,
      attendance_rate: 0,
      excused_rate: 0,
      average_performance: null,
    });
    // Nothing recorded at all: no rates either.
    expect(computeResult(input({}))).toMatchObject({
      attendance_rate: null,
      excused_rate: null,
      absence_penalty: 0,
    });
  });

  it('floors the final percentage at 0', () => {
    // 1/10 = 10 %; penalty 5 × 4 = 20 > 10 → 0, F
    const result = computeResult(
      input({
        absencePenalty: 5,
        grades: [grade(null, 1, 10)],
        attendance: { present: 6, late: 0, absent: 4, excused: 0 },
      }),
    );
    expect(result).toMatchObject({
      weighted_percentage: 10,
      absence_penalty: 20,
      final_percentage: 0,
      letter_grade: 'F',
    });
  });

  it('ignores grades outside the rule categories, matching categories in any case', () => {
    // Only the exam counts (" exam" matches "Exam"): 70
    expect(
      weightedPercentage(
        [{ category: 'Exam', weight: 100 }],
        [grade(' exam', 70, 100), grade('Bonus', 100, 100), grade(null, 100, 100)],
      ),
    ).toEqual({ percentage: 70, counted: 1 });
    // Grades, but none in a rule category: nothing to grade on.
    expect(
      weightedPercentage([{ category: 'Exam', weight: 100 }], [grade('Bonus', 100, 100)]),
    ).toEqual({ percentage: null, counted: 0 });
  });

  it('counts every grade in one category when the course has no rules', () => {
    // (1 × 50/100 + 3 × 100/100) / 4 = 3.5 / 4 = 87.5 → B+
    const result = computeResult(
      input({ grades: [grade('Homework', 50, 100, 1), grade('Exam', 100, 100, 3)] }),
    );
    expect(result.weighted_percentage).toBe(87.5);
    expect(result.letter_grade).toBe('B+');
  });
});

describe('the letter scale', () => {
  it('gives the default letters at their boundaries', () => {
    expect(letterFor(100, DEFAULT_GRADE_SCALE)).toBe('A+');
    expect(letterFor(97, DEFAULT_GRADE_SCALE)).toBe('A+');
    expect(letterFor(96.99, DEFAULT_GRADE_SCALE)).toBe('A');
    expect(letterFor(83, DEFAULT_GRADE_SCALE)).toBe('B');
    expect(letterFor(60, DEFAULT_GRADE_SCALE)).toBe('D-');
    expect(letterFor(59.99, DEFAULT_GRADE_SCALE)).toBe('F');
    expect(letterFor(0, DEFAULT_GRADE_SCALE)).toBe('F');
  });

  it('accepts the default scale and refuses one out of order, with repeats or no floor', () => {
    expect(gradeScaleSchema.safeParse(DEFAULT_GRADE_SCALE).success).toBe(true);
    const issues = (scale: unknown) =>
      (gradeScaleSchema.safeParse(scale).error?.issues ?? []).map((issue) => issue.path.join('.'));
    expect(
      issues([
        { letter: 'Pass', min: 50 },
        { letter: 'Merit', min: 70 },
        { letter: 'Fail', min: 0 },
      ]),
    ).toEqual(['1.min']);
    expect(
      issues([
        { letter: 'P', min: 50 },
        { letter: 'P', min: 0 },
      ]),
    ).toEqual(['1.letter']);
    expect(issues([{ letter: 'P', min: 50 }])).toEqual(['0.min']);
    expect(issues([])).toEqual(['']);
  });
});

describe('class statistics', () => {
  it('gives count, mean, median, range and the letter distribution', () => {
    // Finals 76.67, 84, 90 (one student ungraded): mean 250.67 / 3 = 83.556… → 83.56, median 84
    const statistics = classStatistics(
      [
        { final_percentage: 84, letter_grade: 'B' },
        { final_percentage: 76.67, letter_grade: 'C' },
        { final_percentage: 90, letter_grade: 'A-' },
        { final_percentage: null, letter_grade: null },
      ],
      DEFAULT_GRADE_SCALE,
    );
    expect(statistics).toMatchObject({
      students: 4,
      count: 3,
      mean: 83.56,
      median: 84,
      min: 76.67,
      max: 90,
      ungraded: 1,
    });
    expect(statistics.distribution.map((entry) => entry.letter)).toEqual(
      DEFAULT_GRADE_SCALE.map((band) => band.letter),
    );
    expect(statistics.distribution.filter((entry) => entry.count > 0)).toEqual([
      { letter: 'A-', count: 1 },
      { letter: 'B', count: 1 },
      { letter: 'C', count: 1 },
    ]);
  });

  it('takes the middle two for an even count, and nulls for an empty class', () => {
    const even = classStatistics(
      [
        { final_percentage: 80, letter_grade: 'B-' },
        { final_percentage: 70, letter_grade: 'C-' },
      ],
      DEFAULT_GRADE_SCALE,
    );
    expect(even.median).toBe(75);
    expect(classStatistics([], DEFAULT_GRADE_SCALE)).toMatchObject({
      students: 0,
      count: 0,
      mean: null,
      median: null,
      min: null,
      max: null,
      ungraded: 0,
    });
  });
});
