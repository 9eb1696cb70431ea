import { useQuery } from '@tanstack/react-query';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../app/api-context.tsx';
import { Drawer, ErrorBanner, Loading } from '../../components/ui.tsx';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { type DiffKind, diffValues, valueText } from './audit-filters.ts';
import {
  type AuditLog,
  actionMessages,
  auditMessages,
  resourceLabel,
  resourceMessages,
} from './messages.ts';

const KIND_ICONS: Record<DiffKind, string> = {
  changed: '✎',
  added: '+',
  removed: '−',
  unchanged: '=',
};
const KIND_LABELS = {
  changed: 'kindChanged',
  added: 'kindAdded',
  removed: 'kindRemoved',
  unchanged: 'kindUnchanged',
} as const satisfies Record<DiffKind, keyof typeof auditMessages.en>;

/** The entry's old and new values side by side; the Change column says what happened in words. */
export function ValuesDiff({ log }: { log: AuditLog }) {
  const t = useT(auditMessages);
  const rows = diffValues(log.old_values, log.new_values);
  if (rows.length === 0) return <p>{t('noChanges')}</p>;
  const show = (present: boolean, value: unknown) => {
    if (!present) return <span className="audit-muted">{t('notSet')}</span>;
    if (value === null || value === '')
      return <span className="audit-muted">{t('emptyValue')}</span>;
    return valueText(value);
  };
  return (
    <table className="data audit-diff">
      <caption>{t('diffCaption')}</caption>
      <thead>
        <tr>
          <th scope="col">{t('diffField')}</th>
          <th scope="col">{t('diffOld')}</th>
          <th scope="col">{t('diffNew')}</th>
          <th scope="col">{t('diffChange')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.field} className={`diff-${row.kind}`}>
            <th scope="row">
              <code>{row.field}</code>
            </th>
            <td className="diff-old">{show(row.hasOld, row.old)}</td>
            <td className="diff-new">{show(row.hasNew, row.new)}</td>
            <td className="diff-kind">
              <span aria-hidden="true">{KIND_ICONS[row.kind]}</span> {t(KIND_LABELS[row.kind])}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EntryDetails({
  log,
  onShowRecord,
}: {
  log: AuditLog;
  onShowRecord(resource: string, resourceId: string): void;
}) {
  const t = useT(auditMessages);
  const tAction = useT(actionMessages);
  const tResource = useT(resourceMessages);
  const format = useFormat();
  const dash = '—';
  const hasDetails = log.details !== null && Object.keys(log.details).length > 0;
  return (
    <>
      <dl className="details">
        <dt>{t('fieldTime')}</dt>
        <dd>
          <time dateTime={log.timestamp}>{format.dateTime(log.timestamp)}</time>
        </dd>
        <dt>{t('fieldAction')}</dt>
        <dd>
          {tAction(log.action)} <code>{log.action}</code>
        </dd>
        <dt>{t('fieldResource')}</dt>
        <dd>
          {resourceLabel(log, t, tResource)} <code>{log.resource}</code>
        </dd>
        <dt>{t('fieldResourceId')}</dt>
        <dd>{log.resource_id ?? dash}</dd>
        <dt>{t('fieldUser')}</dt>
        <dd>{log.user_email ?? (log.user_id === null ? t('system') : dash)}</dd>
        <dt>{t('fieldUserId')}</dt>
        <dd>{log.user_id ?? dash}</dd>
        <dt>{t('fieldResult')}</dt>
        <dd>
          {log.success ? (
            <span className="badge badge-completed">
              <span aria-hidden="true">✓</span> {t('succeeded')}
            </span>
          ) : (
            <span className="badge badge-failed">
              <span aria-hidden="true">✕</span> {t('failed')}
            </span>
          )}
        </dd>
        <dt>{t('fieldError')}</dt>
        <dd>{log.error_message ?? dash}</dd>
        <dt>{t('fieldRequestId')}</dt>
        <dd>{log.request_id ? <code>{log.request_id}</code> : dash}</dd>
        <dt>{t('fieldIp')}</dt>
        <dd>{log.ip_address ?? dash}</dd>
        <dt>{t('fieldUserAgent')}</dt>
        <dd>{log.user_agent ?? dash}</dd>
        <dt>{t('fieldHash')}</dt>
        <dd>
          <code className="audit-hash">{log.hash}</code>
        </dd>
        <dt>{t('fieldPrevHash')}</dt>
        <dd>
          <code className="audit-hash">{log.prev_hash}</code>
        </dd>
      </dl>
      {log.resource_id ? (
        <p>
          <button type="button" onClick={() => onShowRecord(log.resource, log.resource_id ?? '')}>
            {t('recordHistory')}
          </button>
        </p>
      ) : null}
      <h3>{t('changes')}</h3>
      <ValuesDiff log={log} />
      <h3>{t('details')}</h3>
      {hasDetails ? (
        <pre className="audit-json">{JSON.stringify(log.details, null, 2)}</pre>
      ) : (
        <p>{t('noDetails')}</p>
      )}
    </>
  );
}

/**
 * The drawer for one entry: the row's own data when it was opened from the table, or the
 * entry fetched by id (GET /audit/logs/{id}) when it was opened from the integrity report.
 */
export function AuditLogDrawer({
  id,
  log,
  onClose,
  onShowRecord,
}: {
  id: number;
  log: AuditLog | undefined;
  onClose(): void;
  onShowRecord(resource: string, resourceId: string): void;
}) {
  const t = useT(auditMessages);
  const { client } = useApi();
  const fetched = useQuery({
    queryKey: ['audit', 'log', id],
    enabled: log === undefined,
    queryFn: async () =>
      unwrap(await client.GET('/api/v1/audit/logs/{id}', { params: { path: { id } } })),
  });
  const entry = log ?? fetched.data;
  return (
    <Drawer title={t('drawerTitle', { id })} onClose={onClose}>
      {entry ? (
        <EntryDetails log={entry} onShowRecord={onShowRecord} />
      ) : fetched.isError ? (
        <ErrorBanner error={fetched.error} onRetry={() => void fetched.refetch()} />
      ) : (
        <Loading />
      )}
    </Drawer>
  );
}
