import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { downloadFile } from '../../api/download.ts';
import { useApi } from '../../app/api-context.tsx';
import { ErrorBanner, Field, Loading, Pagination } from '../../components/ui.tsx';
import { useFormat, useLanguage, useT } from '../../i18n/i18n.tsx';
import { formatDuration } from '../../live/duration.ts';
import type { Job } from '../../live/types.ts';
import { DELIMITERS, ENCODINGS, IMPORT_FIELDS } from './fields.ts';
import {
  commitPreview,
  detectedMapping,
  type ImportPreviewData,
  type PreviewOptions,
  type PreviewRow,
  type RowStatus,
  requestPreview,
} from './import-api.ts';
import { fieldMessages, importMessages } from './messages.ts';

const ROWS_PAGE_SIZE = 25;

const STATUS_ICONS: Record<RowStatus, string> = { valid: '✓', warning: '⚠', error: '✕' };

const DELIMITER_LABELS = {
  ',': 'delimiterComma',
  ';': 'delimiterSemicolon',
  tab: 'delimiterTab',
  '|': 'delimiterPipe',
} as const;

type FieldKey = keyof typeof fieldMessages.en;

function useFieldLabel() {
  const t = useT(fieldMessages);
  return (field: string) => (field in fieldMessages.en ? t(field as FieldKey) : field);
}

function showCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function RowStatusBadge({ status }: { status: RowStatus }) {
  const t = useT(importMessages);
  return (
    <span className={`row-status row-status-${status}`}>
      <span aria-hidden="true">{STATUS_ICONS[status]}</span> {t(status)}
    </span>
  );
}

/** The rows of the check, filtered by status, each problem shown in its field's cell. */
function PreviewRows({ preview, columns }: { preview: ImportPreviewData; columns: string[] }) {
  const t = useT(importMessages);
  const fieldLabel = useFieldLabel();
  const { client } = useApi();
  const [status, setStatus] = useState<'' | RowStatus>(preview.rows_with_errors > 0 ? 'error' : '');
  const [page, setPage] = useState(1);
  const rows = useQuery({
    queryKey: ['import-rows', preview.preview_id, status, page],
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) =>
      unwrap(
        await client.GET('/api/v1/imports/{id}/rows', {
          params: {
            path: { id: preview.preview_id },
            query: { page, page_size: ROWS_PAGE_SIZE, ...(status ? { status } : {}) },
          },
          signal,
        }),
      ),
  });
  const shown = new Set(columns);
  const label = (row: PreviewRow, field: string) =>
    `${t('rowNumber')} ${row.row_number}, ${fieldLabel(field)}`;

  return (
    <section className="preview-rows" aria-labelledby="preview-rows-title">
      <h2 id="preview-rows-title">{t('rowsTitle')}</h2>
      <div className="toolbar">
        <Field label={t('show')}>
          {(props) => (
            <select
              {...props}
              value={status}
              onChange={(event) => {
                setStatus(event.target.value as '' | RowStatus);
                setPage(1);
              }}
            >
              <option value="">{t('showAll')}</option>
              <option value="error">{t('showError')}</option>
              <option value="warning">{t('showWarning')}</option>
              <option value="valid">{t('showValid')}</option>
            </select>
          )}
        </Field>
      </div>
      <ErrorBanner error={rows.error} onRetry={() => void rows.refetch()} />
      {rows.isLoading ? <Loading /> : null}
      {rows.data && rows.data.items.length === 0 ? <p className="banner">{t('noRows')}</p> : null}
      {rows.data && rows.data.items.length > 0 ? (
        <>
          <div className="table-scroll">
            <table className="data preview-table">
              <thead>
                <tr>
                  <th scope="col" className="number">
                    {t('rowNumber')}
                  </th>
                  <th scope="col">{t('check_status')}</th>
                  <th scope="col">{t('action')}</th>
                  {columns.map((field) => (
                    <th scope="col" key={field}>
                      {fieldLabel(field)}
                    </th>
                  ))}
                  <th scope="col">{t('otherIssues')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.data.items.map((row) => {
                  const other = row.issues.filter((issue) => !shown.has(issue.field));
                  return (
                    <tr key={row.row_number} className={`preview-row-${row.validation_status}`}>
                      <th scope="row" className="number">
                        {row.row_number}
                      </th>
                      <td>
                        <RowStatusBadge status={row.validation_status} />
                      </td>
                      <td>{t(`action_${row.action}`)}</td>
                      {columns.map((field) => {
                        const issues = row.issues.filter((issue) => issue.field === field);
                        const tone = row.validation_status === 'error' ? 'error' : 'warning';
                        return (
                          <td
                            key={field}
                            className={issues.length ? `cell-issue cell-issue-${tone}` : undefined}
                            aria-label={issues.length ? label(row, field) : undefined}
                          >
                            {showCell(row.data[field])}
                            {issues.map((issue) => (
                              <span className="cell-issue-message" key={issue.message}>
                                <span aria-hidden="true">⚠ </span>
                                {issue.message}
                              </span>
                            ))}
                          </td>
                        );
                      })}
                      <td>
                        {other.map((issue) => (
                          <span
                            className="cell-issue-message"
                            key={`${issue.field}:${issue.message}`}
                          >
                            <code>{issue.field}</code>: {issue.message}
                          </span>
                        ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pagination
            page={rows.data.page}
            pageSize={rows.data.page_size}
            total={rows.data.total}
            hasNext={rows.data.has_next}
            onPage={setPage}
          />
        </>
      ) : null}
    </section>
  );
}

/**
 * The check of an import file before anything is written: what it will do (cards), how the
 * file was read (encoding, separator, columns — each editable, which checks the file again),
 * its rows with every problem on its field, errors.csv, and the commit, held back while there
 * are rows with errors unless the user chooses to skip them.
 */
export function ImportPreview({
  file,
  options: initialOptions,
  initial,
  onCommitted,
}: {
  file: File;
  options: PreviewOptions;
  initial: ImportPreviewData;
  onCommitted(job: Job): void;
}) {
  const t = useT(importMessages);
  const fieldLabel = useFieldLabel();
  const format = useFormat();
  const { locale } = useLanguage();
  const api = useApi();
  const skipId = useId();
  const [preview, setPreview] = useState(initial);
  const [options, setOptions] = useState(initialOptions);
  const [skipErrors, setSkipErrors] = useState(false);
  const [downloaded, setDownloaded] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<unknown>(null);

  const recheck = useMutation({
    mutationFn: (next: PreviewOptions) => requestPreview(api, file, next),
    onSuccess: (result, next) => {
      setPreview(result);
      setOptions(next);
      setSkipErrors(false);
    },
  });
  const commit = useMutation({
    mutationFn: () => commitPreview(api, preview.preview_id, skipErrors),
    onSuccess: (job) => onCommitted(job),
  });

  const mapping = detectedMapping(preview);
  const fieldChoices = [
    ...new Set([
      ...IMPORT_FIELDS[options.importType],
      ...mapping.flatMap((entry) => (entry.field ? [entry.field] : [])),
    ]),
  ];
  const columns = [...new Set(mapping.flatMap((entry) => (entry.field ? [entry.field] : [])))];
  const detected = preview.detected;
  const encoding = typeof detected.encoding === 'string' ? detected.encoding : null;
  const delimiterRaw = typeof detected.delimiter === 'string' ? detected.delimiter : null;
  const delimiter = delimiterRaw === '\t' ? 'tab' : delimiterRaw;
  const unknownHeaders = Array.isArray(detected.unknown_headers)
    ? detected.unknown_headers.map(String)
    : [];
  const dateReport =
    detected.date_order && typeof detected.date_order === 'object'
      ? (detected.date_order as { chosen?: string; warning?: string | null })
      : null;
  const busy = recheck.isPending || commit.isPending;
  const hasErrors = preview.rows_with_errors > 0;
  const writes = preview.create + preview.update;
  const canCommit = preview.can_proceed && writes > 0 && (!hasErrors || skipErrors) && !busy;

  const changeMapping = (header: string, field: string) => {
    const next = Object.fromEntries(mapping.map((entry) => [entry.header, entry.field]));
    next[header] = field || null;
    recheck.mutate({ ...options, mapping: next });
  };
  const download = async () => {
    setDownloadError(null);
    try {
      setDownloaded(
        await downloadFile(api, `/api/v1/imports/${preview.preview_id}/errors.csv`, 'errors.csv'),
      );
    } catch (error) {
      setDownloadError(error);
    }
  };

  const cards: { key: string; label: string; value: number; tone?: string }[] = [
    { key: 'total', label: t('cardTotal'), value: preview.total_rows },
    { key: 'create', label: t('cardCreate'), value: preview.create },
    { key: 'update', label: t('cardUpdate'), value: preview.update },
    { key: 'skip', label: t('cardSkip'), value: preview.skip },
    {
      key: 'warnings',
      label: t('cardWarnings'),
      value: preview.rows_with_warnings,
      tone: 'warning',
    },
    { key: 'errors', label: t('cardErrors'), value: preview.rows_with_errors, tone: 'error' },
  ];

  return (
    <div className="import-preview">
      <section aria-labelledby="preview-title">
        <h2 id="preview-title">{t('previewTitle')}</h2>
        <p className="preview-file">
          {t('chosenFile', {
            name: preview.file_name,
            size: t('sizeKB', { size: format.number(Math.max(1, Math.round(file.size / 1024))) }),
          })}
        </p>
        <dl className="cards preview-cards">
          {cards.map((card) => (
            <div
              key={card.key}
              className={`card${card.tone && card.value > 0 ? ` card-${card.tone}` : ''}`}
            >
              <dt className="card-label">
                {card.tone && card.value > 0 ? (
                  <span aria-hidden="true">{card.tone === 'error' ? '✕ ' : '⚠ '}</span>
                ) : null}
                {card.label}
              </dt>
              <dd className="card-value">{format.number(card.value)}</dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="detected-title" className="preview-detected">
        <h2 id="detected-title">{t('detectedTitle')}</h2>
        <div className="toolbar">
          <p className="detected-fact">
            <strong>{t('format')}:</strong> {String(detected.format ?? '—').toUpperCase()}
            {typeof detected.sheet === 'string' ? (
              <>
                {' · '}
                <strong>{t('sheet')}:</strong> {detected.sheet}
              </>
            ) : null}
            {typeof detected.header_row === 'number' && detected.header_row > 0 ? (
              <>
                {' · '}
                <strong>{t('headerRow')}:</strong> {format.number(detected.header_row)}
              </>
            ) : null}
          </p>
          {encoding ? (
            <Field label={t('encoding')}>
              {(props) => (
                <select
                  {...props}
                  value={options.encoding ?? encoding}
                  disabled={busy}
                  onChange={(event) => recheck.mutate({ ...options, encoding: event.target.value })}
                >
                  {[...new Set([encoding, ...ENCODINGS])].map((value) => (
                    <option key={value} value={value}>
                      {value}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {delimiter ? (
            <Field label={t('delimiter')}>
              {(props) => (
                <select
                  {...props}
                  value={options.delimiter ?? delimiter}
                  disabled={busy}
                  onChange={(event) =>
                    recheck.mutate({ ...options, delimiter: event.target.value })
                  }
                >
                  {DELIMITERS.map((value) => (
                    <option key={value} value={value}>
                      {t(DELIMITER_LABELS[value])}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          <Field label={t('dateOrder')} hint={dateReport?.warning ?? undefined}>
            {(props) => (
              <select
                {...props}
                value={options.dateOrder}
                disabled={busy}
                onChange={(event) =>
                  recheck.mutate({ ...options, dateOrder: event.target.value as 'DMY' | 'MDY' })
                }
              >
                <option value="DMY">{t('dateOrderDMY')}</option>
                <option value="MDY">{t('dateOrderMDY')}</option>
              </select>
            )}
          </Field>
        </div>

        <h3>{t('mappingTitle')}</h3>
        <p className="field-hint">{t('mappingHint')}</p>
        <table className="data mapping-table">
          <thead>
            <tr>
              <th scope="col">{t('column')}</th>
              <th scope="col">{t('field')}</th>
            </tr>
          </thead>
          <tbody>
            {mapping.map((entry) => (
              <tr key={entry.header}>
                <th scope="row">{entry.header}</th>
                <td>
                  <select
                    aria-label={t('mappingFor', { header: entry.header })}
                    value={entry.field ?? ''}
                    disabled={busy}
                    onChange={(event) => changeMapping(entry.header, event.target.value)}
                  >
                    <option value="">{t('notImported')}</option>
                    {fieldChoices.map((field) => (
                      <option key={field} value={field}>
                        {fieldLabel(field)}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {unknownHeaders.length ? (
          <p className="banner banner-warning">
            {t('unknownHeaders', { headers: unknownHeaders.join(', ') })}
          </p>
        ) : null}
        {recheck.isPending ? (
          <p role="status" className="loading">
            {t('rechecking')}
          </p>
        ) : null}
        <ErrorBanner error={recheck.error} />
      </section>

      <PreviewRows key={preview.preview_id} preview={preview} columns={columns} />

      {preview.rows_with_errors + preview.rows_with_warnings > 0 ? (
        <p className="preview-download">
          <button type="button" onClick={() => void download()}>
            {t('downloadErrors')}
          </button>
          {downloaded ? <span role="status"> {t('downloaded', { name: downloaded })}</span> : null}
        </p>
      ) : null}
      <ErrorBanner error={downloadError} />

      <section aria-labelledby="commit-title" className="preview-commit">
        <h2 id="commit-title">{t('commitTitle')}</h2>
        {writes === 0 || !preview.can_proceed ? (
          <p className="banner banner-warning">{t('nothingToImport')}</p>
        ) : null}
        {hasErrors ? (
          <>
            {!skipErrors ? <p className="banner banner-error">{t('errorsBlock')}</p> : null}
            <div className="checkbox">
              <input
                id={skipId}
                type="checkbox"
                checked={skipErrors}
                disabled={busy}
                onChange={(event) => setSkipErrors(event.target.checked)}
              />
              <label htmlFor={skipId}>
                {preview.rows_with_errors === 1
                  ? t('skipErrorsOne')
                  : t('skipErrors', { count: format.number(preview.rows_with_errors) })}
              </label>
            </div>
          </>
        ) : null}
        {writes > 0 ? (
          <p>
            {t('estimate', {
              duration: formatDuration(preview.estimated_duration_seconds, locale),
            })}{' '}
            {t('expires', { time: format.dateTime(preview.expires_at) })}
          </p>
        ) : null}
        <ErrorBanner error={commit.error} />
        <button
          type="button"
          className="primary"
          disabled={!canCommit}
          onClick={() => commit.mutate()}
        >
          {commit.isPending
            ? t('committing')
            : writes === 1
              ? t('commitOne')
              : t('commit', { count: format.number(writes) })}
        </button>
      </section>
    </div>
  );
}
