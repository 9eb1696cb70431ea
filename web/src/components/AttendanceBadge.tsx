import { defineMessages, useT } from '../i18n/i18n.tsx';
import './components.css';

export const attendanceMessages = defineMessages({
  en: { Present: 'Present', Absent: 'Absent', Late: 'Late', Excused: 'Excused' },
  el: { Present: 'Παρών', Absent: 'Απών', Late: 'Καθυστέρηση', Excused: 'Δικαιολογημένη απουσία' },
});

export type AttendanceStatus = keyof typeof attendanceMessages.en;

const ICONS: Record<AttendanceStatus, string> = {
  Present: '✓',
  Absent: '✕',
  Late: '◷',
  Excused: '✎',
};

const CLASSES: Record<AttendanceStatus, string> = {
  Present: 'badge badge-completed',
  Absent: 'badge badge-failed',
  Late: 'badge badge-cancelled',
  Excused: 'badge badge-pending',
};

/** An attendance status as an icon and a word, never colour alone. */
export function AttendanceBadge({ status }: { status: AttendanceStatus }) {
  const t = useT(attendanceMessages);
  return (
    <span className={CLASSES[status]}>
      <span aria-hidden="true">{ICONS[status]}</span> {t(status)}
    </span>
  );
}
