import { navigate, useLocation } from '../app/router.tsx';

/**
 * A screen's state kept in the URL's query string (filters, sort, page, tab), so reload and
 * Back bring it back. Values equal to their default are left out of the URL.
 */
export function useSearchState<Key extends string>(defaults: Record<Key, string>) {
  const { pathname, search } = useLocation();
  const keys = Object.keys(defaults) as Key[];
  const values = {} as Record<Key, string>;
  for (const key of keys) values[key] = search.get(key) ?? defaults[key];

  const update = (patch: Partial<Record<Key, string>>, options: { replace?: boolean } = {}) => {
    const next = new URLSearchParams(search);
    for (const key of Object.keys(patch) as Key[]) {
      const value = patch[key];
      if (value === undefined || value === '' || value === defaults[key]) next.delete(key);
      else next.set(key, value);
    }
    const query = next.toString();
    navigate(`${pathname}${query ? `?${query}` : ''}`, options);
  };
  return [values, update] as const;
}
