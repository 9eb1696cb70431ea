import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../api/client.ts';
import type { ResponseBody } from '../api/types.ts';
import { useApi } from '../app/api-context.tsx';
import { common } from '../i18n/common.ts';
import { defineMessages, useFormat, useT } from '../i18n/i18n.tsx';
import { ErrorBanner, Loading, Pagination } from './ui.tsx';
import './components.css';

type HistoryPage = ResponseBody<'/api/v1/audit/history/{resource}/{resource_id}', 'get'>;
export type HistoryEntry = HistoryPage['logs'][number];

const messages = defineMessages({
  en: {
    heading: 'Change history',
    empty: 'No recorded changes yet.',
    field: 'Field',
    before: 'Before',
    after: 'After',
    by: 'by {who}',
    system: 'the system',
    failed: 'Failed',
    noFieldChanges: 'No field values were recorded for this entry.',
    changes: 'Changed fields',
    actionCREATE: 'Created',
    actionUPDATE: 'Changed',
    actionDELETE: 'Deleted',
    actionBULK_CREATE: 'Created in bulk',
    actionBULK_UPDATE: 'Changed in bulk',
    actionBULK_DELETE: 'Deleted in bulk',
    actionIMPORT: 'Imported',
    actionEXPORT: 'Exported',
    actionLOGIN: 'Signed in',
    actionLOGOUT: 'Signed out',
    actionPASSWORD_CHANGE: 'Password changed',
    actionPERMISSION_CHANGE: 'Permissions changed',
    actionBACKUP_CREATE: 'Backup made',
    actionBACKUP_RESTORE: 'Backup restored',
    actionCONFIG_CHANGE: 'Settings changed',
    actionVIEW: 'Viewed',
    actionSEARCH: 'Searched',
    actionOTHER: 'Other',
  },
  el: {
    heading: 'Ιστορικό αλλαγών',
    empty: 'Δεν έχουν καταγραφεί αλλαγές ακόμη.',
    field: 'Πεδίο',
    before: 'Πριν',
    after: 'Μετά',
    by: 'από {who}',
    system: 'το σύστημα',
    failed: 'Απέτυχε',
    noFieldChanges: 'Δεν καταγράφηκαν τιμές πεδίων για αυτή την εγγραφή.',
    changes: 'Πεδία που άλλαξαν',
    actionCREATE: 'Δημιουργία',
    actionUPDATE: 'Αλλαγή',
    actionDELETE: 'Διαγραφή',
    actionBULK_CREATE: 'Μαζική δημιουργία',
    actionBULK_UPDATE: 'Μαζική αλλαγή',
    actionBULK_DELETE: 'Μαζική διαγραφή',
    actionIMPORT: 'Εισαγωγή',
    actionEXPORT: 'Εξαγωγή',
    actionLOGIN: 'Σύνδεση',
    actionLOGOUT: 'Αποσύνδεση',
    actionPASSWORD_CHANGE: 'Αλλαγή κωδικού',
    actionPERMISSION_CHANGE: 'Αλλαγή δικαιωμάτων',
    actionBACKUP_CREATE: 'Λήψη αντιγράφου ασφαλείας',
    actionBACKUP_RESTORE: 'Επαναφορά αντιγράφου ασφαλείας',
    actionCONFIG_CHANGE: 'Αλλαγή ρυθμίσεων',
    actionVIEW: 'Προβολή',
    actionSEARCH: 'Αναζήτηση',
    actionOTHER: 'Άλλο',
  },
});

type ActionKey = `action${HistoryEntry['action']}`;

/** The localised word for an audit action (CREATE → "Created"). */
export function useAuditActionLabel() {
  const t = useT(messages);
  return (action: string) => t(`action${action}` as ActionKey);
}

/** Every field an entry changed, in the order the record has them, old first. */
export function changedFields(entry: Pick<HistoryEntry, 'old_values' | 'new_values'>): string[] {
  const names = new Set<string>([
    ...Object.keys(entry.old_values ?? {}),
    ...Object.keys(entry.new_values ?? {}),
  ]);
  // Bookkeeping columns say nothing a reader needs.
  for (const hidden of ['id', 'created_at', 'updated_at']) names.delete(hidden);
  return [...names];
}

function HistoryValue({ value }: { value: unknown }) {
  const t = useT(common);
  if (value === null || value === undefined || value === '') return <span>—</span>;
  if (typeof value === 'boolean') return <span>{value ? t('yes') : t('no')}</span>;
  if (typeof value === 'object') return <code>{JSON.stringify(value)}</code>;
  return <span>{String(value)}</span>;
}

/**
 * The audit history of one record (GET /audit/history/{resource}/{id}, oldest first): for each
 * change its time, who made it, the action and a table of the changed fields, old → new.
 */
export function AuditHistory({
  resource,
  resourceId,
  fieldLabel = (name) => name,
}: {
  resource: string;
  resourceId: string | number;
  fieldLabel?: (name: string) => string;
}) {
  const t = useT(messages);
  const format = useFormat();
  const actionLabel = useAuditActionLabel();
  const { client } = useApi();
  const [page, setPage] = useState(1);
  const pageSize = 50;
  const history = useQuery({
    queryKey: ['audit', 'history', resource, String(resourceId), page],
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/audit/history/{resource}/{resource_id}', {
          params: {
            path: { resource, resource_id: String(resourceId) },
            query: { page, page_size: pageSize },
          },
        }),
      ),
  });

  if (history.isPending) return <Loading />;
  if (history.isError)
    return <ErrorBanner error={history.error} onRetry={() => void history.refetch()} />;
  const { logs, total, has_next } = history.data;
  return (
    <section aria-label={t('heading')}>
      {logs.length === 0 ? <p>{t('empty')}</p> : null}
      <ol className="history">
        {logs.map((entry) => {
          const fields = changedFields(entry);
          const who = entry.user_email ?? (entry.user_id ? `#${entry.user_id}` : t('system'));
          return (
            <li
              key={entry.id}
              className={entry.success ? 'history-entry' : 'history-entry history-failed'}
            >
              <header>
                <span className="history-action">{actionLabel(entry.action)}</span>
                <time dateTime={entry.timestamp}>{format.dateTime(entry.timestamp)}</time>
                <span>{t('by', { who })}</span>
                {entry.success ? null : (
                  <span className="badge badge-failed">
                    <span aria-hidden="true">✕</span> {t('failed')}
                    {entry.error_message ? `: ${entry.error_message}` : ''}
                  </span>
                )}
              </header>
              {fields.length === 0 ? (
                <p className="field-hint">{t('noFieldChanges')}</p>
              ) : (
                <table className="data">
                  <caption className="visually-hidden">
                    {t('changes')} · {actionLabel(entry.action)} ·{' '}
                    {format.dateTime(entry.timestamp)}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('field')}</th>
                      <th scope="col">{t('before')}</th>
                      <th scope="col" className="arrow">
                        <span aria-hidden="true">→</span>
                      </th>
                      <th scope="col">{t('after')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {fields.map((name) => (
                      <tr key={name}>
                        <th scope="row">{fieldLabel(name)}</th>
                        <td className="old">
                          <HistoryValue value={entry.old_values?.[name]} />
                        </td>
                        <td className="arrow" aria-hidden="true">
                          →
                        </td>
                        <td className="new">
                          <HistoryValue value={entry.new_values?.[name]} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </li>
          );
        })}
      </ol>
      {total > pageSize ? (
        <Pagination
          page={page}
          pageSize={pageSize}
          total={total}
          hasNext={has_next}
          onPage={setPage}
        />
      ) : null}
    </section>
  );
}
