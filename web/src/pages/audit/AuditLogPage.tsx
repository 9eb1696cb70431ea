import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo, useRef, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { downloadFile } from '../../api/download.ts';
import type { ResponseBody } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';
import { ErrorBanner, Loading, Page } from '../../components/ui.tsx';
import { useSearchState } from '../../components/useSearchState.ts';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { AuditFilterForm } from './AuditFilterForm.tsx';
import { AuditLogDrawer } from './AuditLogDrawer.tsx';
import { AuditLogTable } from './AuditLogTable.tsx';
import {
  type AuditListQuery,
  FILTER_DEFAULTS,
  type FilterKey,
  type FilterValues,
  queryString,
  toExportQuery,
  toListQuery,
} from './audit-filters.ts';
import { type AuditLog, type AuditMessageKey, auditMessages } from './messages.ts';
import './audit.css';

type AuditPage = ResponseBody<'/api/v1/audit/logs', 'get'>;
type Verification = ResponseBody<'/api/v1/audit/verify', 'get'>;
type ExportFormat = 'csv' | 'json';

const FILTER_KEYS = Object.keys(FILTER_DEFAULTS) as FilterKey[];
const NO_CURSORS: string[] = [];

function VerifyResult({ report, onOpen }: { report: Verification; onOpen(id: number): void }) {
  const t = useT(auditMessages);
  const format = useFormat();
  if (report.valid) {
    return (
      <div className="banner banner-success" role="status">
        <strong>
          <span aria-hidden="true">✓ </span>
          {report.checked === 0
            ? t('verifyValidEmpty')
            : t('verifyValid', {
                checked: format.number(report.checked),
                ms: format.number(report.duration_ms),
              })}
        </strong>
      </div>
    );
  }
  const problem = report.first_problem;
  return (
    <div className="banner banner-error" role="alert">
      <strong>{t('verifyBroken', { id: problem?.id ?? '?' })}</strong>
      {problem ? (
        <>
          <p>
            {t('verifyReason', {
              reason:
                `problem_${problem.kind}` in auditMessages.en
                  ? t(`problem_${problem.kind}` as AuditMessageKey)
                  : problem.kind,
            })}
          </p>
          <p>{t('verifyDetail', { message: problem.message })}</p>
        </>
      ) : null}
      <p>
        {t('verifyProblems', {
          count: format.number(report.problems.length),
          checked: format.number(report.checked),
        })}
      </p>
      {problem && problem.kind !== 'missing' ? (
        <button type="button" onClick={() => onOpen(problem.id)}>
          {t('openEntry', { id: problem.id })}
        </button>
      ) : null}
    </div>
  );
}

function CursorPaging({
  pageNumber,
  from,
  to,
  total,
  hasOlder,
  onNewest,
  onNewer,
  onOlder,
}: {
  pageNumber: number;
  from: number;
  to: number;
  total: number | null;
  hasOlder: boolean;
  onNewest(): void;
  onNewer(): void;
  onOlder(): void;
}) {
  const t = useT(auditMessages);
  const format = useFormat();
  const range =
    total === null
      ? t('range', { from: format.number(from), to: format.number(to) })
      : t('rangeOf', {
          from: format.number(from),
          to: format.number(to),
          total: format.number(total),
        });
  return (
    <nav className="pagination" aria-label={t('pagingLabel')}>
      {pageNumber > 2 ? (
        <button type="button" onClick={onNewest}>
          {t('newest')}
        </button>
      ) : null}
      <button type="button" disabled={pageNumber <= 1} onClick={onNewer}>
        {t('newer')}
      </button>
      <span>
        {t('pageNumber', { page: format.number(pageNumber) })} · {range}
      </span>
      <button type="button" disabled={!hasOlder} onClick={onOlder}>
        {t('older')}
      </button>
    </nav>
  );
}

/**
 * The audit trail: filters kept in the URL, newest first, paged by cursor (next_cursor) with
 * Newer / Older; a drawer per entry with its old / new values; export with the same filters;
 * and a check of the hash chain.
 */
export function AuditLogPage() {
  const t = useT(auditMessages);
  const api = useApi();
  const queryClient = useQueryClient();
  const [values, update] = useSearchState(FILTER_DEFAULTS);
  const urlKey = FILTER_KEYS.map((key) => values[key]).join('\u0001');
  // biome-ignore lint/correctness/useExhaustiveDependencies: urlKey stands for every value
  const { query, errors } = useMemo(() => toListQuery(values), [urlKey]);
  const filterKey = JSON.stringify(query);
  const invalid = Object.keys(errors).length > 0;

  // The cursors of the pages walked through (newest page first), for Newer / Older.
  const [paging, setPaging] = useState({ key: filterKey, cursors: NO_CURSORS });
  const cursors = paging.key === filterKey ? paging.cursors : NO_CURSORS;
  const cursor = cursors.at(-1);

  const logs = useQuery({
    queryKey: ['audit', 'logs', query, cursor ?? null],
    enabled: !invalid,
    placeholderData: keepPreviousData,
    queryFn: async () => {
      const params: AuditListQuery = cursor ? { ...query, cursor } : query;
      return unwrap(await api.client.GET('/api/v1/audit/logs', { params: { query: params } }));
    },
  });
  // Only the first page is counted; later (cursor) pages repeat its total.
  const firstPage = queryClient.getQueryData<AuditPage>(['audit', 'logs', query, null]);
  const total = logs.data?.total ?? firstPage?.total ?? null;

  const [selected, setSelected] = useState<{ id: number; log?: AuditLog } | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  const open = useCallback((log: AuditLog) => {
    opener.current = document.activeElement as HTMLElement | null;
    setSelected({ id: log.id, log });
  }, []);
  const openById = useCallback((id: number) => {
    opener.current = document.activeElement as HTMLElement | null;
    setSelected({ id });
  }, []);
  const close = useCallback(() => {
    setSelected(null);
    // Back to the control that opened the drawer, for keyboard users.
    requestAnimationFrame(() => opener.current?.focus());
  }, []);

  const apply = (next: FilterValues) => {
    if (FILTER_KEYS.every((key) => next[key] === values[key])) {
      // The same filters again: start from the newest entries and ask afresh.
      setPaging({ key: filterKey, cursors: NO_CURSORS });
      void queryClient.invalidateQueries({ queryKey: ['audit', 'logs'] });
    } else {
      update(next);
    }
  };
  const showRecord = useCallback(
    (resource: string, resourceId: string) => {
      setSelected(null);
      update({
        ...FILTER_DEFAULTS,
        page_size: values.page_size,
        resource,
        resource_id: resourceId,
      });
    },
    [update, values.page_size],
  );

  const verify = useMutation({
    mutationFn: async () => unwrap(await api.client.GET('/api/v1/audit/verify')),
  });

  const [exporting, setExporting] = useState<ExportFormat | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const [exported, setExported] = useState<string | null>(null);
  const runExport = async (format: ExportFormat) => {
    setExporting(format);
    setExportError(null);
    setExported(null);
    try {
      const path = `/api/v1/audit/logs/export?${queryString(toExportQuery(query, format))}`;
      setExported(await downloadFile(api, path, `audit.${format}`));
    } catch (caught) {
      setExportError(caught);
    } finally {
      setExporting(null);
    }
  };

  const data = logs.data;
  const pageSize = query.page_size ?? 50;
  const from = cursors.length * pageSize + 1;
  const to = cursors.length * pageSize + (data?.logs.length ?? 0);
  const nextCursor = data?.has_next ? data.next_cursor : null;

  return (
    <Page
      title={t('title')}
      actions={
        <>
          <button type="button" disabled={verify.isPending} onClick={() => verify.mutate()}>
            {verify.isPending ? t('verifying') : t('verify')}
          </button>
          <button
            type="button"
            disabled={exporting !== null || invalid}
            onClick={() => void runExport('csv')}
          >
            {exporting === 'csv' ? t('exporting') : t('exportCsv')}
          </button>
          <button
            type="button"
            disabled={exporting !== null || invalid}
            onClick={() => void runExport('json')}
          >
            {exporting === 'json' ? t('exporting') : t('exportJson')}
          </button>
        </>
      }
    >
      <p className="audit-intro">
        {t('intro')} {t('exportHint')}
      </p>
      {verify.data ? <VerifyResult report={verify.data} onOpen={openById} /> : null}
      <ErrorBanner error={verify.error} />
      <ErrorBanner error={exportError} />
      <p className="visually-hidden" role="status">
        {exported ? t('exported', { name: exported }) : ''}
      </p>

      <AuditFilterForm key={urlKey} initial={values} initialErrors={errors} onApply={apply} />

      {invalid ? null : logs.isPending ? (
        <Loading />
      ) : logs.isError ? (
        <ErrorBanner error={logs.error} onRetry={() => void logs.refetch()} />
      ) : data && data.logs.length === 0 ? (
        <p className="banner">{t('empty')}</p>
      ) : data ? (
        <div aria-busy={logs.isPlaceholderData}>
          {logs.isPlaceholderData ? (
            <p className="loading" role="status">
              {t('updating')}
            </p>
          ) : null}
          <AuditLogTable logs={data.logs} selectedId={selected?.id ?? null} onOpen={open} />
          <CursorPaging
            pageNumber={cursors.length + 1}
            from={from}
            to={to}
            total={total}
            hasOlder={Boolean(nextCursor) && !logs.isPlaceholderData}
            onNewest={() => setPaging({ key: filterKey, cursors: NO_CURSORS })}
            onNewer={() => setPaging({ key: filterKey, cursors: cursors.slice(0, -1) })}
            onOlder={() => {
              if (nextCursor) setPaging({ key: filterKey, cursors: [...cursors, nextCursor] });
            }}
          />
        </div>
      ) : null}

      {selected ? (
        <AuditLogDrawer
          id={selected.id}
          log={selected.log}
          onClose={close}
          onShowRecord={showRecord}
        />
      ) : null}
    </Page>
  );
}
