import { type FormEvent, useState } from 'react';
import { Field } from '../../components/ui.tsx';
import { common } from '../../i18n/common.ts';
import { useT } from '../../i18n/i18n.tsx';
import {
  FILTER_DEFAULTS,
  type FilterErrors,
  type FilterKey,
  type FilterValues,
  PAGE_SIZES,
  toListQuery,
} from './audit-filters.ts';
import {
  AUDIT_ACTIONS,
  AUDIT_RESOURCES,
  actionMessages,
  auditMessages,
  resourceMessages,
} from './messages.ts';

/**
 * The filters as a form: edits stay here until Apply (so typing does not fire a request per
 * key), then go to the URL. The page re-mounts the form when the URL changes (Back, a link).
 */
export function AuditFilterForm({
  initial,
  initialErrors,
  onApply,
}: {
  initial: FilterValues;
  initialErrors: FilterErrors;
  onApply(values: FilterValues): void;
}) {
  const t = useT(auditMessages);
  const tCommon = useT(common);
  const tAction = useT(actionMessages);
  const tResource = useT(resourceMessages);
  const [draft, setDraft] = useState<FilterValues>(initial);
  const [errors, setErrors] = useState<FilterErrors>(initialErrors);

  const set = (key: FilterKey) => (event: { target: { value: string } }) => {
    const value = event.target.value;
    setDraft((current) => ({ ...current, [key]: value }));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const checked = toListQuery(draft).errors;
    setErrors(checked);
    if (Object.keys(checked).length === 0) onApply(draft);
  };
  const clear = () => {
    const cleared = { ...FILTER_DEFAULTS, page_size: draft.page_size };
    setDraft(cleared);
    setErrors({});
    onApply(cleared);
  };
  const error = (key: keyof FilterErrors) => {
    const message = errors[key];
    return message ? t(message) : undefined;
  };

  return (
    <form className="audit-filters" aria-label={t('filtersLabel')} onSubmit={submit} noValidate>
      <div className="audit-filter-grid">
        <Field label={t('user')} hint={t('userHint')} error={error('user')}>
          {(props) => <input {...props} type="text" value={draft.user} onChange={set('user')} />}
        </Field>
        <Field label={t('action')}>
          {(props) => (
            <select {...props} value={draft.action} onChange={set('action')}>
              <option value="">{t('any')}</option>
              {AUDIT_ACTIONS.map((action) => (
                <option key={action} value={action}>
                  {tAction(action)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('resource')}>
          {(props) => (
            <select {...props} value={draft.resource} onChange={set('resource')}>
              <option value="">{t('any')}</option>
              {AUDIT_RESOURCES.map((resource) => (
                <option key={resource} value={resource}>
                  {tResource(resource)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('resourceId')}>
          {(props) => (
            <input {...props} type="text" value={draft.resource_id} onChange={set('resource_id')} />
          )}
        </Field>
        <Field label={t('result')}>
          {(props) => (
            <select {...props} value={draft.success} onChange={set('success')}>
              <option value="">{t('any')}</option>
              <option value="true">{t('succeeded')}</option>
              <option value="false">{t('failed')}</option>
            </select>
          )}
        </Field>
        <Field label={t('from')} error={error('start_date')}>
          {(props) => (
            <input
              {...props}
              type="date"
              value={draft.start_date}
              max={draft.end_date || undefined}
              onChange={set('start_date')}
            />
          )}
        </Field>
        <Field label={t('to')}>
          {(props) => (
            <input
              {...props}
              type="date"
              value={draft.end_date}
              min={draft.start_date || undefined}
              onChange={set('end_date')}
            />
          )}
        </Field>
        <Field label={t('text')} hint={t('textHint')}>
          {(props) => (
            <input {...props} type="search" value={draft.q} maxLength={200} onChange={set('q')} />
          )}
        </Field>
        <Field label={t('pageSize')}>
          {(props) => (
            <select {...props} value={draft.page_size} onChange={set('page_size')}>
              {PAGE_SIZES.map((size) => (
                <option key={size} value={size}>
                  {size}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="audit-filter-actions">
          <button type="submit" className="primary">
            {t('apply')}
          </button>
          <button type="button" onClick={clear}>
            {tCommon('clearFilters')}
          </button>
        </div>
      </div>
    </form>
  );
}
