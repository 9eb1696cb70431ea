import { memo } from 'react';
import { type Translate, useFormat, useT } from '../../i18n/i18n.tsx';
import {
  type AuditLog,
  actionMessages,
  auditMessages,
  resourceLabel,
  resourceMessages,
} from './messages.ts';

type Format = ReturnType<typeof useFormat>;
type AuditT = Translate<keyof typeof auditMessages.en>;
type ActionT = Translate<keyof typeof actionMessages.en>;
type ResourceT = Translate<keyof typeof resourceMessages.en>;

interface RowProps {
  log: AuditLog;
  selected: boolean;
  onOpen(log: AuditLog): void;
  format: Format;
  t: AuditT;
  tAction: ActionT;
  tResource: ResourceT;
}

/** Fields the summary names, at most a few: the row stays one line of plain text. */
function summary(log: AuditLog, t: AuditT): string {
  if (!log.success && log.error_message) return log.error_message;
  const fields = Object.keys(log.new_values ?? log.old_values ?? {});
  if (fields.length > 0) {
    const shown = fields.slice(0, 4).join(', ');
    return t('changedFields', { fields: fields.length > 4 ? `${shown}, …` : shown });
  }
  return '';
}

/**
 * One entry as plain cells: no per-row hooks or heavy components, and memoised, so a page
 * of 500 entries renders once and re-renders only the rows whose props changed.
 */
const AuditRow = memo(function AuditRow({
  log,
  selected,
  onOpen,
  format,
  t,
  tAction,
  tResource,
}: RowProps) {
  return (
    <tr className={selected ? 'audit-row selected' : 'audit-row'}>
      <td className="number">
        <button
          type="button"
          className="link-button"
          aria-label={t('openEntry', { id: log.id })}
          aria-expanded={selected}
          onClick={() => onOpen(log)}
        >
          {log.id}
        </button>
      </td>
      <td>{format.dateTime(log.timestamp)}</td>
      <td>{tAction(log.action)}</td>
      <td>
        {resourceLabel(log, t, tResource)}
        {log.resource_id ? <span className="audit-record-id"> {log.resource_id}</span> : null}
      </td>
      <td className="audit-user">
        {log.user_email ?? (log.user_id === null ? t('system') : `#${log.user_id}`)}
      </td>
      <td>
        {log.success ? (
          <span className="badge badge-completed">
            <span aria-hidden="true">✓</span> {t('succeeded')}
          </span>
        ) : (
          <span className="badge badge-failed">
            <span aria-hidden="true">✕</span> {t('failed')}
          </span>
        )}
      </td>
      <td className="audit-summary">{summary(log, t)}</td>
    </tr>
  );
});

export function AuditLogTable({
  logs,
  selectedId,
  onOpen,
}: {
  logs: AuditLog[];
  selectedId: number | null;
  onOpen(log: AuditLog): void;
}) {
  const t = useT(auditMessages);
  const tAction = useT(actionMessages);
  const tResource = useT(resourceMessages);
  const format = useFormat();
  return (
    <div className="audit-table-frame">
      <table className="data audit-table">
        <caption className="visually-hidden">{t('tableCaption')}</caption>
        <thead>
          <tr>
            <th scope="col" className="number">
              {t('colId')}
            </th>
            <th scope="col">{t('colTime')}</th>
            <th scope="col">{t('colAction')}</th>
            <th scope="col">{t('colResource')}</th>
            <th scope="col">{t('colUser')}</th>
            <th scope="col">{t('colResult')}</th>
            <th scope="col">{t('colSummary')}</th>
          </tr>
        </thead>
        <tbody>
          {logs.map((log) => (
            <AuditRow
              key={log.id}
              log={log}
              selected={log.id === selectedId}
              onOpen={onOpen}
              format={format}
              t={t}
              tAction={tAction}
              tResource={tResource}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}
