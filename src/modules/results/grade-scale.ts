import { z } from 'zod';

/** One band of the letter scale: a final percentage of at least `min` earns `letter`. */
export interface GradeBand {
  letter: string;
  min: number;
}

/** The school's usual scale: A+ from 97, … D- from 60, F below. */
export const DEFAULT_GRADE_SCALE: readonly GradeBand[] = [
  { letter: 'A+', min: 97 },
  { letter: 'A', min: 93 },
  { letter: 'A-', min: 90 },
  { letter: 'B+', min: 87 },
  { letter: 'B', min: 83 },
  { letter: 'B-', min: 80 },
  { letter: 'C+', min: 77 },
  { letter: 'C', min: 73 },
  { letter: 'C-', min: 70 },
  { letter: 'D+', min: 67 },
  { letter: 'D', min: 63 },
  { letter: 'D-', min: 60 },
  { letter: 'F', min: 0 },
];

/**
 * The grade_scale setting: bands from the highest minimum down, the last one at 0 so every
 * percentage gets a letter.
 */
export const gradeScaleSchema = z
  .array(
    z.strictObject({
      letter: z.string().trim().min(1, 'must not be empty').max(10),
      min: z.number().min(0).max(100),
    }),
  )
  .min(1)
  .max(50)
  .superRefine((bands, context) => {
    const letters = new Set<string>();
    for (const [index, band] of bands.entries()) {
      if (letters.has(band.letter)) {
        context.addIssue({
          code: 'custom',
          path: [index, 'letter'],
          message: `repeats the letter ${band.letter}`,
        });
      }
      letters.add(band.letter);
      const previous = bands[index - 1];
      if (previous && band.min >= previous.min) {
        context.addIssue({
          code: 'custom',
          path: [index, 'min'],
          message: `must be lower than the band before it (${previous.min})`,
        });
      }
    }
    const last = bands[bands.length - 1];
    if (last && last.min !== 0) {
      context.addIssue({
        code: 'custom',
        path: [bands.length - 1, 'min'],
        message: 'the last band must start at 0, so every percentage gets a letter',
      });
    }
  })
  .describe(
    'Letter grades from the highest band down: a final percentage of at least min earns the letter; the last band starts at 0',
  );

/** The letter a final percentage earns on `scale` (bands highest first). */
export function letterFor(percentage: number, scale: readonly GradeBand[]): string {
  for (const band of scale) if (percentage >= band.min) return band.letter;
  // A valid scale ends at 0; a percentage is never negative.
  return scale[scale.length - 1]?.letter ?? '';
}
