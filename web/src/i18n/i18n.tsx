import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';

export const LANGUAGES = ['en', 'el'] as const;
export type Language = (typeof LANGUAGES)[number];

const LOCALES: Record<Language, string> = { en: 'en-GB', el: 'el-GR' };
const STORAGE_KEY = 'registrar.language';

/**
 * Messages live next to the screen that shows them, in both languages. The Greek table must
 * have every key of the English one, so a missing translation is a type error.
 */
export type Messages<Keys extends string> = { en: Record<Keys, string>; el: Record<Keys, string> };

export function defineMessages<Keys extends string>(messages: Messages<Keys>): Messages<Keys> {
  return messages;
}

interface I18nContextValue {
  language: Language;
  locale: string;
  setLanguage(language: Language): void;
}

const I18nContext = createContext<I18nContextValue | null>(null);

function initialLanguage(): Language {
  const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (stored === 'en' || stored === 'el') return stored;
  return globalThis.navigator?.language?.toLowerCase().startsWith('el') ? 'el' : 'en';
}

export function I18nProvider({
  children,
  language: fixed,
}: {
  children: ReactNode;
  /** Tests pin a language. */
  language?: Language;
}) {
  const [language, setLanguageState] = useState<Language>(() => fixed ?? initialLanguage());
  const setLanguage = useCallback((next: Language) => {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
    document.documentElement.lang = next;
    setLanguageState(next);
  }, []);
  const value = useMemo(
    () => ({ language, locale: LOCALES[language], setLanguage }),
    [language, setLanguage],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useLanguage(): I18nContextValue {
  const context = useContext(I18nContext);
  if (!context) throw new Error('useLanguage needs an I18nProvider');
  return context;
}

export type Translate<Keys extends string> = (
  key: Keys,
  values?: Record<string, string | number>,
) => string;

/** t(key, {name}) for one screen's messages; {name} placeholders are filled in. */
export function useT<Keys extends string>(messages: Messages<Keys>): Translate<Keys> {
  const { language, locale } = useLanguage();
  return useCallback(
    (key, values) => {
      const template = messages[language][key] ?? messages.en[key] ?? key;
      if (!values) return template;
      return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
        const value = values[name];
        if (value === undefined) return whole;
        return typeof value === 'number' ? value.toLocaleString(locale) : value;
      });
    },
    [messages, language, locale],
  );
}

/** Dates and numbers in the chosen language; times in the browser's own time zone. */
export function useFormat() {
  const { locale } = useLanguage();
  return useMemo(() => {
    const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
    const number = new Intl.NumberFormat(locale);
    const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
    return {
      dateTime: (value: string | Date | null | undefined) =>
        value ? dateTime.format(new Date(value)) : '—',
      /** A calendar date (YYYY-MM-DD) shown as written, not shifted by the time zone. */
      date: (value: string | null | undefined) =>
        value ? date.format(new Date(`${value.slice(0, 10)}T12:00:00`)) : '—',
      number: (value: number | null | undefined) =>
        value === null || value === undefined ? '—' : number.format(value),
      /** 0.5 → 50% */
      percent: (value: number | null | undefined) =>
        value === null || value === undefined ? '—' : percent.format(value),
    };
  }, [locale]);
}
