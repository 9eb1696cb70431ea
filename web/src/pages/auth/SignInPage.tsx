import { type FormEvent, useState } from 'react';
import { ApiError } from '../../api/client.ts';
import { useAuth } from '../../app/auth.tsx';
import { ErrorBanner, Field, Page } from '../../components/ui.tsx';
import { useT } from '../../i18n/i18n.tsx';
import { authMessages } from './messages.ts';

export function SignInPage() {
  const t = useT(authMessages);
  const { signIn } = useAuth();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  const fieldError = (name: string) =>
    error instanceof ApiError ? error.fieldError(name) : undefined;

  return (
    <Page title={t('signInTitle')}>
      <form className="form narrow" onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <Field label={t('email')} error={fieldError('email')}>
          {(props) => (
            <input
              {...props}
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          )}
        </Field>
        <Field label={t('password')} error={fieldError('password')}>
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t('signingIn') : t('signIn')}
        </button>
      </form>
    </Page>
  );
}
