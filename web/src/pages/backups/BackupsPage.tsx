import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { downloadFile } from '../../api/download.ts';
import { useApi } from '../../app/api-context.tsx';
import { JobProgressMonitor } from '../../components/JobProgressMonitor.tsx';
import { ErrorBanner, Loading, Page, Pagination } from '../../components/ui.tsx';
import { useSearchState } from '../../components/useSearchState.ts';
import { useFormat, useLanguage, useT } from '../../i18n/i18n.tsx';
import { applyJob } from '../../live/cache.ts';
import { useJob } from '../../live/LiveJobEvents.tsx';
import { isFinished, type Job } from '../../live/types.ts';
import { backupMessages } from './messages.ts';
import { type Backup, RestoreDialog } from './RestoreDialog.tsx';
import './backups.css';

const PAGE_SIZE = 50;
const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;

/** 1536 → "1.5 kB" / "1,5 kB", in the chosen language. */
function useBytes() {
  const { locale } = useLanguage();
  return useMemo(() => {
    const formats = UNITS.map(
      (unit) =>
        new Intl.NumberFormat(locale, {
          style: 'unit',
          unit,
          unitDisplay: 'short',
          maximumFractionDigits: unit === 'byte' ? 0 : 1,
        }),
    );
    return (bytes: number) => {
      let value = bytes;
      let index = 0;
      while (value >= 1024 && index < UNITS.length - 1) {
        value /= 1024;
        index += 1;
      }
      return formats[index]?.format(value) ?? String(bytes);
    };
  }, [locale]);
}

/**
 * Backups (admins): the list (name, made, kind, size), a new backup and a restore, both as
 * backup_restore jobs followed live. A restore asks first, naming what it does, and needs
 * the backup's name typed out.
 */
export function BackupsPage() {
  const t = useT(backupMessages);
  const format = useFormat();
  const bytes = useBytes();
  const api = useApi();
  const { client } = api;
  const queryClient = useQueryClient();
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const download = (name: string) => {
    setDownloadError(null);
    downloadFile(
      api,
      `/api/v1/backups/${encodeURIComponent(name)}/download`,
      `${name}.backup`,
    ).catch(setDownloadError);
  };
  const [{ job: jobId, page: pageText }, setSearch] = useSearchState({ job: '', page: '1' });
  const page = Math.max(1, Number.parseInt(pageText, 10) || 1);

  const list = useQuery({
    queryKey: ['backups', page],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/backups', { params: { query: { page, page_size: PAGE_SIZE } } }),
      ),
  });

  // A finished job (a new backup, or a restore with its safety backup) changes the list.
  const { job } = useJob(jobId || undefined);
  const finished = job ? isFinished(job.status) : false;
  useEffect(() => {
    if (finished) void queryClient.invalidateQueries({ queryKey: ['backups'] });
  }, [finished, queryClient]);

  const showJob = (created: Job) => {
    // The socket may have brought a later copy already (a small backup ends at once).
    applyJob(queryClient, created);
    setSearch({ job: created.id });
  };

  const create = useMutation({
    mutationFn: async () => unwrap(await client.POST('/api/v1/backups')),
    onSuccess: showJob,
  });

  const [restoring, setRestoring] = useState<Backup | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  const restore = useMutation({
    mutationFn: async (name: string) =>
      unwrap(await client.POST('/api/v1/backups/{name}/restore', { params: { path: { name } } })),
    onSuccess: (created) => {
      setRestoring(null);
      showJob(created);
    },
  });
  const openRestore = (backup: Backup) => {
    opener.current = document.activeElement as HTMLElement | null;
    restore.reset();
    setRestoring(backup);
  };
  const closeRestore = () => {
    setRestoring(null);
    requestAnimationFrame(() => opener.current?.focus());
  };

  const operation = job?.metadata.operation;
  const restoreName = typeof job?.metadata.name === 'string' ? job.metadata.name : '';
  const data = list.data;

  return (
    <Page
      title={t('title')}
      actions={
        <button
          type="button"
          className="primary"
          disabled={create.isPending}
          onClick={() => create.mutate()}
        >
          {create.isPending ? t('creating') : t('create')}
        </button>
      }
    >
      <p className="backups-intro">{t('intro')}</p>
      <p className="backups-intro">{t('storedAt')}</p>
      <ErrorBanner error={create.error} />
      <ErrorBanner error={downloadError} />

      {jobId ? (
        <section
          className="backups-job"
          aria-label={
            operation === 'restore' ? t('jobRestore', { name: restoreName }) : t('jobBackup')
          }
        >
          {operation === 'restore' ? (
            <p className="banner banner-warning">
              <strong>
                <span aria-hidden="true">⚠ </span>
                {t('restoreSignOut')}
              </strong>
            </p>
          ) : null}
          <JobProgressMonitor
            jobId={jobId}
            actions={
              <button type="button" onClick={() => setSearch({ job: '' })}>
                {t('hideJob')}
              </button>
            }
          />
        </section>
      ) : null}

      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />
      ) : data && data.items.length === 0 ? (
        <p className="banner">{t('empty')}</p>
      ) : data ? (
        <>
          <table className="data backups-table">
            <caption className="backups-caption">{t('tableCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('colName')}</th>
                <th scope="col">{t('colCreated')}</th>
                <th scope="col">{t('colKind')}</th>
                <th scope="col" className="number">
                  {t('colSize')}
                </th>
                <th scope="col">{t('colEncrypted')}</th>
                <th scope="col">{t('colActions')}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((backup) => (
                <tr key={backup.name}>
                  <th scope="row">
                    <code>{backup.name}</code>
                  </th>
                  <td>
                    <time dateTime={backup.created_at}>{format.dateTime(backup.created_at)}</time>
                  </td>
                  <td>{t(backup.kind === 'safety' ? 'kind_safety' : 'kind_manual')}</td>
                  <td className="number">{bytes(backup.size_bytes)}</td>
                  <td>
                    <span aria-hidden="true">{backup.encrypted ? '🔒 ' : ''}</span>
                    {backup.encrypted ? t('encryptedYes') : t('encryptedNo')}
                  </td>
                  <td className="backup-actions">
                    <button
                      type="button"
                      aria-label={t('downloadNamed', { name: backup.name })}
                      onClick={() => download(backup.name)}
                    >
                      {t('download')}
                    </button>
                    <button
                      type="button"
                      aria-label={t('restoreNamed', { name: backup.name })}
                      disabled={restore.isPending}
                      onClick={() => openRestore(backup)}
                    >
                      {t('restore')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.total > PAGE_SIZE ? (
            <Pagination
              page={data.page}
              pageSize={data.page_size}
              total={data.total}
              hasNext={data.has_next}
              onPage={(next) => setSearch({ page: String(next) })}
            />
          ) : null}
        </>
      ) : null}

      {restoring ? (
        <RestoreDialog
          backup={restoring}
          busy={restore.isPending}
          error={<ErrorBanner error={restore.error} />}
          onConfirm={() => restore.mutate(restoring.name)}
          onCancel={closeRestore}
        />
      ) : null}
    </Page>
  );
}
