import { type FormEvent, useState } from 'react';
import { ApiError } from '../../api/client.ts';
import { useAuth } from '../../app/auth.tsx';
import { ErrorBanner, Field, Page } from '../../components/ui.tsx';
import { useT } from '../../i18n/i18n.tsx';
import { authMessages } from './messages.ts';

export function ChangePasswordPage({ forced = false }: { forced?: boolean }) {
  const t = useT(authMessages);
  const { changePassword } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const mismatch = confirm.length > 0 && confirm !== next;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (mismatch) return;
    setBusy(true);
    setError(null);
    try {
      await changePassword(current, next);
      setDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (name: string) =>
    error instanceof ApiError ? error.fieldError(name) : undefined;

  return (
    <Page title={t('changeTitle')}>
      {forced ? <p className="banner">{t('changeForced')}</p> : null}
      {done ? (
        <p className="banner banner-success" role="status">
          {t('changed')}
        </p>
      ) : null}
      <form className="form narrow" onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <Field label={t('currentPassword')} error={fieldError('current_password')}>
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="current-password"
              value={current}
              onChange={(event) => setCurrent(event.target.value)}
            />
          )}
        </Field>
        <Field
          label={t('newPassword')}
          hint={t('newPasswordHint')}
          error={fieldError('new_password')}
        >
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              value={next}
              onChange={(event) => setNext(event.target.value)}
            />
          )}
        </Field>
        <Field label={t('confirmPassword')} error={mismatch ? t('mismatch') : undefined}>
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="new-password"
              value={confirm}
              onChange={(event) => setConfirm(event.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy || mismatch}>
          {t('change')}
        </button>
      </form>
    </Page>
  );
}
