import { type ReactNode, useEffect } from 'react';
import { common } from '../i18n/common.ts';
import { LANGUAGES, type Language, useLanguage, useT } from '../i18n/i18n.tsx';
import { LiveJobEvents } from '../live/LiveJobEvents.tsx';
import { ChangePasswordPage } from '../pages/auth/ChangePasswordPage.tsx';
import { SignInPage } from '../pages/auth/SignInPage.tsx';
import { useAuth } from './auth.tsx';
import { Link, matchPath, useLocation } from './router.tsx';
import { ROUTES } from './routes.tsx';
import '../styles.css';

const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', el: 'Ελληνικά' };

function LanguageSwitch() {
  const t = useT(common);
  const { language, setLanguage } = useLanguage();
  return (
    <label className="language-switch">
      <span>{t('language')}</span>
      <select value={language} onChange={(event) => setLanguage(event.target.value as Language)}>
        {LANGUAGES.map((code) => (
          <option key={code} value={code} lang={code}>
            {LANGUAGE_NAMES[code]}
          </option>
        ))}
      </select>
    </label>
  );
}

function Shell({ children }: { children: ReactNode }) {
  const t = useT(common);
  const { user, can, signOut } = useAuth();
  const { pathname } = useLocation();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t('skipToContent')}
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          {t('appName')}
        </Link>
        <div className="topbar-end">
          <LanguageSwitch />
          {user ? (
            <>
              <span className="who">{t('signedInAs', { name: user.full_name || user.email })}</span>
              <button type="button" onClick={() => void signOut()}>
                {t('signOut')}
              </button>
            </>
          ) : null}
        </div>
      </header>
      <div className="shell-body">
        {user && !user.must_change_password ? (
          <nav className="sidenav" aria-label={t('mainNavigation')}>
            <ul>
              {ROUTES.filter(
                (route) => route.nav && (!route.permission || can(route.permission)),
              ).map((route) => {
                const current =
                  route.path === '/' ? pathname === '/' : pathname.startsWith(route.path);
                return (
                  <li key={route.path}>
                    <Link to={route.path} aria-current={current ? 'page' : undefined}>
                      {t(route.nav!)}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
        ) : null}
        <main id="main" className="content">
          {children}
        </main>
      </div>
    </div>
  );
}

function Screen() {
  const t = useT(common);
  const { user, can } = useAuth();
  const { pathname } = useLocation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new screen starts at the top.
  useEffect(() => {
    globalThis.scrollTo?.(0, 0);
  }, [pathname]);
  if (user === undefined) return <p role="status">{t('loading')}</p>;
  if (user === null) return <SignInPage />;
  if (user.must_change_password) return <ChangePasswordPage forced />;
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (!params) continue;
    if (route.permission && !can(route.permission)) {
      return <p className="banner banner-error">{t('forbidden')}</p>;
    }
    return <>{route.render(params)}</>;
  }
  return <p className="banner">{t('notFound')}</p>;
}

export function App() {
  return (
    <LiveJobEvents>
      <Shell>
        <Screen />
      </Shell>
    </LiveJobEvents>
  );
}
