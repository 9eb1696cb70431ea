import { type ReactNode, useEffect, useId, useRef } from 'react';
import { ApiError, errorMessage } from '../api/client.ts';
import { common } from '../i18n/common.ts';
import { useFormat, useT } from '../i18n/i18n.tsx';

/** A screen: its heading (focused on arrival, for screen readers) and its actions. */
export function Page({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Registrar`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <h1 id="page-title" ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** A labelled control with its hint and its error, both tied to it for assistive technology. */
export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: (props: {
    id: string;
    'aria-invalid': boolean;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null]
    .filter(Boolean)
    .join(' ');
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': described || undefined })}
      {hint ? (
        <p className="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** An error the user should read: the API's problem title and detail, or the message. */
export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT(common);
  if (!error) return null;
  const problem = error instanceof ApiError ? error.problem : null;
  return (
    <div className="banner banner-error" role="alert">
      <strong>{problem?.title ?? errorMessage(error)}</strong>
      {problem?.detail && problem.detail !== problem.title ? <p>{problem.detail}</p> : null}
      {problem?.errors?.length ? (
        <ul>
          {problem.errors.map((item) => (
            <li key={`${item.field}:${item.message}`}>
              <code>{item.field}</code>: {item.message}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          {t('retry')}
        </button>
      ) : null}
    </div>
  );
}

export function Loading() {
  const t = useT(common);
  return (
    <p className="loading" role="status">
      {t('loading')}
    </p>
  );
}

const STATUS_ICONS: Record<string, string> = {
  PENDING: '◷',
  PROCESSING: '▶',
  COMPLETED: '✓',
  FAILED: '✕',
  CANCELLED: '■',
};

/** A job status as an icon and a word, never colour alone. */
export function StatusBadge({ status }: { status: string }) {
  const t = useT(common);
  const key = `status${status}` as Parameters<typeof t>[0];
  return (
    <span className={`badge badge-${status.toLowerCase()}`}>
      <span aria-hidden="true">{STATUS_ICONS[status] ?? '•'}</span> {t(key)}
    </span>
  );
}

/** Previous/next paging for {total, page, page_size, has_next} lists. */
export function Pagination({
  page,
  pageSize,
  total,
  hasNext,
  onPage,
}: {
  page: number;
  pageSize: number;
  total: number;
  hasNext: boolean;
  onPage(page: number): void;
}) {
  const t = useT(common);
  const format = useFormat();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <nav className="pagination" aria-label={t('pageOf', { page, pages })}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t('previous')}
      </button>
      <span>
        {t('pageOf', { page, pages })} · {t('totalItems', { total: format.number(total) })}
      </span>
      <button type="button" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        {t('next')}
      </button>
    </nav>
  );
}

/** A side panel for details; Escape closes it and focus moves into it when it opens. */
export function Drawer({
  title,
  onClose,
  children,
}: {
  title: string;
  onClose(): void;
  children: ReactNode;
}) {
  const t = useT(common);
  const panel = useRef<HTMLDivElement>(null);
  const titleId = useId();
  useEffect(() => {
    panel.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="drawer" role="dialog" aria-modal="false" aria-labelledby={titleId}>
      <div className="drawer-panel" ref={panel} tabIndex={-1}>
        <header className="drawer-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" onClick={onClose}>
            {t('close')}
          </button>
        </header>
        <div className="drawer-body">{children}</div>
      </div>
    </div>
  );
}
