import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, unwrap } from '../../api/client.ts';
import { downloadFile } from '../../api/download.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { JobProgressMonitor } from '../../components/JobProgressMonitor.tsx';
import { ErrorBanner, Field, Page } from '../../components/ui.tsx';
import { useSearchState } from '../../components/useSearchState.ts';
import { useLanguage, useT } from '../../i18n/i18n.tsx';
import {
  EXPORT_FORMATS,
  EXPORT_RESOURCES,
  type ExportFormat,
  type ExportLang,
  type ExportResource,
  type FilterField,
  RESOURCE_ORDER,
} from './export-resources.ts';
import { type ExportMessageKey, exportMessages } from './messages.ts';
import './exports.css';

const FORMAT_LABELS: Record<ExportFormat, ExportMessageKey> = {
  csv: 'formatCsv',
  xlsx: 'formatXlsx',
  json: 'formatJson',
};

type Notice = 'tooLarge' | 'tooLargeNoJobs' | null;

function isTooLarge(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    error.status === 422 &&
    (error.problem.type ?? '').endsWith('export-too-large')
  );
}

/** One filter control; its value is the text the query string carries ('' = any). */
function FilterControl({
  field,
  value,
  onChange,
}: {
  field: FilterField;
  value: string;
  onChange(value: string): void;
}) {
  const t = useT(exportMessages);
  return (
    <Field label={t(field.label)} hint={field.hint ? t(field.hint) : undefined}>
      {(props) =>
        field.kind === 'select' || field.kind === 'yesno' ? (
          <select {...props} value={value} onChange={(event) => onChange(event.target.value)}>
            <option value="">{t('any')}</option>
            {field.kind === 'yesno' ? (
              <>
                <option value="true">{t('yes')}</option>
                <option value="false">{t('no')}</option>
              </>
            ) : (
              field.options?.map((option) => (
                <option key={option.value} value={option.value}>
                  {t(option.label)}
                </option>
              ))
            )}
          </select>
        ) : (
          <input
            {...props}
            type={field.kind === 'number' ? 'number' : field.kind === 'date' ? 'date' : 'text'}
            inputMode={field.kind === 'number' ? 'numeric' : undefined}
            min={field.min}
            max={field.max}
            value={value}
            onChange={(event) => onChange(event.target.value)}
          />
        )
      }
    </Field>
  );
}

/**
 * Exports: a resource, a format and the resource's list filters. The download is direct
 * (GET /exports/{resource}); when the server says it is too large (422 export-too-large), or
 * when asked, it becomes an export_large job (POST /exports) followed live on the page, whose
 * finished file downloads from /exports/{job_id}/download.
 */
export function ExportsPage() {
  const t = useT(exportMessages);
  const api = useApi();
  const queryClient = useQueryClient();
  const { can } = useAuth();
  const { language } = useLanguage();
  const [{ job: jobId }, setSearch] = useSearchState({ job: '' });

  const allowed = RESOURCE_ORDER.filter((name) => can(EXPORT_RESOURCES[name].permission));
  const [chosen, setChosen] = useState<ExportResource | null>(null);
  const resource = chosen && allowed.includes(chosen) ? chosen : allowed[0];
  const [format, setFormat] = useState<ExportFormat>('xlsx');
  const [lang, setLang] = useState<ExportLang>(language);
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [includeDeleted, setIncludeDeleted] = useState(false);
  const [busy, setBusy] = useState<'download' | 'job' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const canQueue = can('jobs:create');

  if (!resource) {
    return (
      <Page title={t('title')}>
        <p className="banner banner-error">{t('nothingToExport')}</p>
      </Page>
    );
  }
  const fields = EXPORT_RESOURCES[resource].filters;
  const softDelete = EXPORT_RESOURCES[resource].softDelete !== false;

  /** The filters that are set, in the order the form shows them. */
  const activeFilters = (): Record<string, string> => {
    const result: Record<string, string> = {};
    for (const field of fields) {
      const value = (filters[field.key] ?? '').trim();
      if (value !== '') result[field.key] = value;
    }
    if (includeDeleted && softDelete) result.include_deleted = 'true';
    return result;
  };

  const startJob = async () => {
    setBusy('job');
    try {
      const job = unwrap(
        await api.client.POST('/api/v1/exports', {
          body: { resource, format, lang, filters: activeFilters() },
        }),
      );
      queryClient.setQueryData(['job', job.id], job);
      setSearch({ job: job.id });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  };

  const download = async (event: FormEvent) => {
    event.preventDefault();
    setBusy('download');
    setError(null);
    setNotice(null);
    setSaved(null);
    const query = new URLSearchParams({ ...activeFilters(), format, lang });
    try {
      setSaved(
        await downloadFile(api, `/api/v1/exports/${resource}?${query}`, `${resource}.${format}`),
      );
      setBusy(null);
    } catch (caught) {
      setBusy(null);
      if (!isTooLarge(caught)) {
        setError(caught);
      } else if (canQueue) {
        setNotice('tooLarge');
        await startJob();
      } else {
        setNotice('tooLargeNoJobs');
      }
    }
  };

  const queue = async () => {
    setError(null);
    setNotice(null);
    setSaved(null);
    await startJob();
  };

  const chooseResource = (next: ExportResource) => {
    setChosen(next);
    setFilters({});
    setError(null);
    setNotice(null);
  };

  return (
    <Page title={t('title')}>
      <p className="exports-intro">{t('intro')}</p>
      {jobId ? (
        <section className="exports-job" aria-label={t('jobTitle')}>
          {notice === 'tooLarge' ? (
            <p className="banner banner-warning" role="status">
              {t('tooLarge')}
            </p>
          ) : null}
          <JobProgressMonitor
            jobId={jobId}
            actions={
              <button
                type="button"
                onClick={() => {
                  setNotice(null);
                  setSearch({ job: '' });
                }}
              >
                {t('newExport')}
              </button>
            }
          />
        </section>
      ) : null}

      <form
        className="form exports-form"
        aria-label={t('formLabel')}
        onSubmit={download}
        noValidate
      >
        <div className="exports-grid">
          <Field label={t('resource')}>
            {(props) => (
              <select
                {...props}
                value={resource}
                onChange={(event) => chooseResource(event.target.value as ExportResource)}
              >
                {allowed.map((name) => (
                  <option key={name} value={name}>
                    {t(`resource_${name}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('format')}>
            {(props) => (
              <select
                {...props}
                value={format}
                onChange={(event) => setFormat(event.target.value as ExportFormat)}
              >
                {EXPORT_FORMATS.map((name) => (
                  <option key={name} value={name}>
                    {t(FORMAT_LABELS[name])}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('lang')}>
            {(props) => (
              <select
                {...props}
                value={lang}
                onChange={(event) => setLang(event.target.value as ExportLang)}
              >
                <option value="en">{t('langEn')}</option>
                <option value="el">{t('langEl')}</option>
              </select>
            )}
          </Field>
        </div>

        <fieldset className="exports-filters">
          <legend>{t('filtersTitle')}</legend>
          <p className="field-hint">{t('filtersHint')}</p>
          <div className="exports-grid">
            {fields.map((field) => (
              <FilterControl
                key={`${resource}-${field.key}`}
                field={field}
                value={filters[field.key] ?? ''}
                onChange={(value) => setFilters((current) => ({ ...current, [field.key]: value }))}
              />
            ))}
          </div>
          {softDelete ? (
            <label className="exports-check">
              <input
                type="checkbox"
                checked={includeDeleted}
                onChange={(event) => setIncludeDeleted(event.target.checked)}
              />
              {t('includeDeleted')}
            </label>
          ) : null}
        </fieldset>

        {notice === 'tooLargeNoJobs' ? (
          <p className="banner banner-warning" role="alert">
            {t('tooLargeNoJobs')}
          </p>
        ) : null}
        <ErrorBanner error={error} />
        <div className="exports-actions">
          <button type="submit" className="primary" disabled={busy !== null}>
            {busy === 'download' ? t('downloading') : t('download')}
          </button>
          {canQueue ? (
            <button type="button" disabled={busy !== null} onClick={() => void queue()}>
              {busy === 'job' ? t('starting') : t('background')}
            </button>
          ) : null}
        </div>
        {canQueue ? <p className="field-hint">{t('backgroundHint')}</p> : null}
        <p role="status" className="exports-saved">
          {saved ? t('downloaded', { name: saved }) : ''}
        </p>
      </form>
    </Page>
  );
}
