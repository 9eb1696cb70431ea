import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type DragEvent, type FormEvent, useId, useState } from 'react';
import { useApi } from '../../app/api-context.tsx';
import { JobProgressMonitor } from '../../components/JobProgressMonitor.tsx';
import { ErrorBanner, Field, Page } from '../../components/ui.tsx';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { applyJob } from '../../live/cache.ts';
import { IMPORT_TYPES, type ImportType } from './fields.ts';
import { ImportPreview } from './ImportPreview.tsx';
import { type ImportPreviewData, type PreviewOptions, requestPreview } from './import-api.ts';
import { importMessages } from './messages.ts';
import './imports.css';

type Step = 'choose' | 'upload' | 'preview' | 'progress';
const STEPS: Step[] = ['choose', 'upload', 'preview', 'progress'];
const STEP_LABELS = {
  choose: 'stepChoose',
  upload: 'stepUpload',
  preview: 'stepPreview',
  progress: 'stepProgress',
} as const;

const ACCEPTED = '.csv,.txt,.xlsx,.json,text/csv,application/json';

function StepList({ step }: { step: Step }) {
  const t = useT(importMessages);
  const current = STEPS.indexOf(step);
  return (
    <ol className="wizard-steps" aria-label={t('steps')}>
      {STEPS.map((name, index) => (
        <li
          key={name}
          aria-current={index === current ? 'step' : undefined}
          className={index < current ? 'done' : index === current ? 'current' : undefined}
        >
          <span className="wizard-step-number" aria-hidden="true">
            {index < current ? '✓' : index + 1}
          </span>
          <span className="wizard-step-label" aria-hidden="true">
            {t(STEP_LABELS[name])}
          </span>
          <span className="wizard-sr-only">
            {t('stepOf', { step: index + 1, steps: STEPS.length, name: t(STEP_LABELS[name]) })}
          </span>
        </li>
      ))}
    </ol>
  );
}

/**
 * The import wizard: choose what to import → upload the file (drag and drop or choose) →
 * check it (ImportPreview) → import, followed live by the JobProgressMonitor.
 */
export function ImportPage() {
  const t = useT(importMessages);
  const format = useFormat();
  const api = useApi();
  const queryClient = useQueryClient();
  const inputId = useId();
  const hintId = useId();
  const [step, setStep] = useState<Step>('choose');
  const [options, setOptions] = useState<PreviewOptions>({
    importType: 'students',
    allowUpdates: true,
    skipDuplicates: false,
    dateOrder: 'DMY',
  });
  const [file, setFile] = useState<File | null>(null);
  const [dragging, setDragging] = useState(false);
  const [preview, setPreview] = useState<ImportPreviewData | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);

  const check = useMutation({
    mutationFn: ({ chosen, with: choices }: { chosen: File; with: PreviewOptions }) =>
      requestPreview(api, chosen, choices),
    onSuccess: (result) => {
      setPreview(result);
      setStep('preview');
    },
  });

  const startOver = () => {
    setStep('choose');
    setFile(null);
    setPreview(null);
    setJobId(null);
    check.reset();
  };
  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped) {
      setFile(dropped);
      check.reset();
    }
  };
  const submitUpload = (event: FormEvent) => {
    event.preventDefault();
    if (file) check.mutate({ chosen: file, with: options });
  };

  return (
    <Page
      title={t('title')}
      actions={
        step !== 'choose' ? (
          <button type="button" onClick={startOver}>
            {t('startOver')}
          </button>
        ) : null
      }
    >
      <StepList step={step} />

      {step === 'choose' ? (
        <form
          className="form import-choose"
          onSubmit={(event) => {
            event.preventDefault();
            setStep('upload');
          }}
        >
          <fieldset className="import-types">
            <legend>{t('chooseLegend')}</legend>
            {IMPORT_TYPES.map((type) => (
              <label key={type} className="import-type">
                <input
                  type="radio"
                  name="import_type"
                  value={type}
                  checked={options.importType === type}
                  onChange={() => setOptions({ ...options, importType: type as ImportType })}
                />
                <span>
                  <strong>{t(`type_${type}`)}</strong>
                  <span className="field-hint">{t(`hint_${type}`)}</span>
                </span>
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>{t('optionsLegend')}</legend>
            <label className="checkbox">
              <input
                type="checkbox"
                checked={options.allowUpdates}
                onChange={(event) => setOptions({ ...options, allowUpdates: event.target.checked })}
              />
              <span>
                {t('allowUpdates')}
                <span className="field-hint">{t('allowUpdatesHint')}</span>
              </span>
            </label>
            <label className="checkbox">
              <input
                type="checkbox"
                checked={options.skipDuplicates}
                onChange={(event) =>
                  setOptions({ ...options, skipDuplicates: event.target.checked })
                }
              />
              <span>
                {t('skipDuplicates')}
                <span className="field-hint">{t('skipDuplicatesHint')}</span>
              </span>
            </label>
            <Field label={t('dateOrder')}>
              {(props) => (
                <select
                  {...props}
                  value={options.dateOrder}
                  onChange={(event) =>
                    setOptions({ ...options, dateOrder: event.target.value as 'DMY' | 'MDY' })
                  }
                >
                  <option value="DMY">{t('dateOrderDMY')}</option>
                  <option value="MDY">{t('dateOrderMDY')}</option>
                </select>
              )}
            </Field>
          </fieldset>
          <div>
            <button type="submit" className="primary">
              {t('next')}
            </button>
          </div>
        </form>
      ) : null}

      {step === 'upload' ? (
        <form className="form import-upload" onSubmit={submitUpload}>
          <p>
            <strong>{t(`type_${options.importType}`)}</strong>
          </p>
          {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is a shortcut; the file button inside does the same from the keyboard */}
          <div
            className={dragging ? 'dropzone dropzone-active' : 'dropzone'}
            onDragOver={(event) => {
              event.preventDefault();
              setDragging(true);
            }}
            onDragEnter={() => setDragging(true)}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <p className="dropzone-title">
              <span aria-hidden="true">⇪ </span>
              {t('dropTitle')}
            </p>
            <p>{t('dropOr')}</p>
            <label htmlFor={inputId} className="button">
              {t('chooseFile')}
            </label>
            <input
              id={inputId}
              className="dropzone-input"
              type="file"
              accept={ACCEPTED}
              aria-describedby={hintId}
              onChange={(event) => {
                setFile(event.target.files?.[0] ?? null);
                check.reset();
              }}
            />
            <p className="field-hint" id={hintId}>
              {t('fileHint')}
            </p>
            {file ? (
              <p className="dropzone-file" role="status">
                {t('chosenFile', {
                  name: file.name,
                  size: t('sizeKB', {
                    size: format.number(Math.max(1, Math.round(file.size / 1024))),
                  }),
                })}
              </p>
            ) : null}
          </div>
          <ErrorBanner error={check.error} />
          <div className="wizard-buttons">
            <button type="button" onClick={() => setStep('choose')}>
              {t('back')}
            </button>
            <button type="submit" className="primary" disabled={!file || check.isPending}>
              {check.isPending ? t('checking') : t('check')}
            </button>
          </div>
        </form>
      ) : null}

      {step === 'preview' && preview && file ? (
        <ImportPreview
          file={file}
          options={options}
          initial={preview}
          onCommitted={(job) => {
            applyJob(queryClient, job);
            setJobId(job.id);
            setStep('progress');
          }}
        />
      ) : null}

      {step === 'progress' && jobId ? (
        <JobProgressMonitor
          jobId={jobId}
          actions={
            <button type="button" onClick={startOver}>
              {t('importAnother')}
            </button>
          }
        />
      ) : null}
    </Page>
  );
}
