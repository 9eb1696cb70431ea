import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { common } from '../i18n/common.ts';
import { useT } from '../i18n/i18n.tsx';

/**
 * A button whose action needs a second, explicit yes: pressing it opens a small inline
 * confirmation (an alertdialog) with the question, the confirming button (focused) and
 * Cancel; Escape or Cancel closes it and gives focus back to the button.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  busy = false,
  danger = true,
}: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm(): void;
  busy?: boolean;
  danger?: boolean;
}) {
  const t = useT(common);
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  const questionId = useId();

  useEffect(() => {
    if (open) confirm.current?.focus();
  }, [open]);

  const close = () => {
    setOpen(false);
    // Wait for the opener to be rendered again before focusing it.
    queueMicrotask(() => opener.current?.focus());
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      close();
    }
  };

  if (!open) {
    return (
      <button
        ref={opener}
        type="button"
        className={danger ? 'danger' : undefined}
        disabled={busy}
        onClick={() => setOpen(true)}
      >
        {label}
      </button>
    );
  }
  return (
    <div
      className="confirm"
      role="alertdialog"
      aria-modal="false"
      aria-labelledby={questionId}
      onKeyDown={onKeyDown}
    >
      <span id={questionId}>{question}</span>
      <button
        ref={confirm}
        type="button"
        className={danger ? 'danger' : 'primary'}
        disabled={busy}
        onClick={() => {
          setOpen(false);
          onConfirm();
        }}
      >
        {confirmLabel ?? label}
      </button>
      <button type="button" onClick={close}>
        {t('cancel')}
      </button>
    </div>
  );
}
