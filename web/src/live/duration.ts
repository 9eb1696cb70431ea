/**
 * A length of time in words, in the chosen language: "1 hour 5 minutes", "2 λεπτά 3
 * δευτερόλεπτα". Two units at most; the smallest shown is rounded.
 */
export function formatDuration(totalSeconds: number, locale: string): string {
  const unit = (name: 'hour' | 'minute' | 'second', value: number) =>
    new Intl.NumberFormat(locale, { style: 'unit', unit: name, unitDisplay: 'long' }).format(value);
  const seconds = Math.max(0, Math.round(totalSeconds));
  if (seconds < 60) return unit('second', seconds);
  if (seconds < 3600) {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    return rest ? `${unit('minute', minutes)} ${unit('second', rest)}` : unit('minute', minutes);
  }
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.round((seconds % 3600) / 60);
  return minutes ? `${unit('hour', hours)} ${unit('minute', minutes)}` : unit('hour', hours);
}

/** Seconds left at the rate so far, or null while there is nothing to go by. */
export function estimateRemaining(current: number, total: number, elapsedSeconds: number) {
  if (current <= 0 || total <= current || elapsedSeconds < 1) return null;
  const rate = current / elapsedSeconds;
  return (total - current) / rate;
}
