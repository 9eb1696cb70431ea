import {
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import type { ResponseBody } from '../../api/types.ts';
import { common } from '../../i18n/common.ts';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { type BackupMessageKey, backupMessages } from './messages.ts';

export type Backup = ResponseBody<'/api/v1/backups', 'get'>['items'][number];

/** The tables whose row counts the dialog names, in this order. */
const COUNTED = [
  'students',
  'courses',
  'course_enrollments',
  'grades',
  'attendance',
  'daily_performances',
  'highlights',
  'users',
  'audit_logs',
] as const;

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), [href], [tabindex="0"]';

/**
 * The restore confirmation: a modal dialog that says what a restore does (every record
 * replaced, later changes lost, everyone signed out, a safety backup first) and asks for the
 * backup's name typed out before the restore button works. Escape or Cancel closes it; Tab
 * stays inside it while it is open.
 */
export function RestoreDialog({
  backup,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  backup: Backup;
  busy: boolean;
  error: ReactNode;
  onConfirm(): void;
  onCancel(): void;
}) {
  const t = useT(backupMessages);
  const tCommon = useT(common);
  const format = useFormat();
  const titleId = useId();
  const leadId = useId();
  const inputId = useId();
  const mismatchId = useId();
  const dialog = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [typed, setTyped] = useState('');
  const [tried, setTried] = useState(false);
  const matches = typed.trim() === backup.name;
  const date = format.dateTime(backup.created_at);

  useEffect(() => {
    input.current?.focus();
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      onCancel();
      return;
    }
    if (event.key !== 'Tab' || !dialog.current) return;
    const items = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTried(true);
    if (matches && !busy) onConfirm();
  };

  const counts = COUNTED.filter((table) => backup.counts[table] !== undefined);
  return (
    <div className="modal-backdrop">
      <div
        ref={dialog}
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={leadId}
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId}>
          <span aria-hidden="true">⚠ </span>
          {t('dialogTitle', { name: backup.name })}
        </h2>
        <div id={leadId}>
          <p>{t('dialogLead')}</p>
          <ul className="restore-consequences">
            <li>{t('consequenceReplace', { date })}</li>
            <li>{t('consequenceLost', { date })}</li>
            <li>{t('consequenceSignOut')}</li>
            <li>{t('consequenceSafety')}</li>
          </ul>
        </div>
        {counts.length ? (
          <>
            <p>{t('holds')}</p>
            <ul className="restore-counts">
              {counts.map((table) => (
                <li key={table}>
                  {t(`count_${table}` as BackupMessageKey, {
                    count: format.number(backup.counts[table]),
                  })}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        <form onSubmit={submit} noValidate>
          <div className={tried && !matches ? 'field field-invalid' : 'field'}>
            <label htmlFor={inputId}>{t('typeName', { name: backup.name })}</label>
            <input
              ref={input}
              id={inputId}
              type="text"
              autoComplete="off"
              spellCheck={false}
              value={typed}
              aria-invalid={tried && !matches}
              aria-describedby={tried && !matches ? mismatchId : undefined}
              onChange={(event) => setTyped(event.target.value)}
            />
            {tried && !matches ? (
              <p className="field-error" id={mismatchId}>
                {t('typeNameMismatch')}
              </p>
            ) : null}
          </div>
          {error}
          <div className="modal-actions">
            <button type="submit" className="danger" disabled={busy}>
              {busy ? t('restoring') : t('confirmRestore')}
            </button>
            <button type="button" onClick={onCancel}>
              {tCommon('cancel')}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
