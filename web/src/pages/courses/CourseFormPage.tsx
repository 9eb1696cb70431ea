import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { ApiError, unwrap } from '../../api/client.ts';
import type { RequestBody } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { Link, navigate } from '../../app/router.tsx';
import { ErrorBanner, Field, Loading, Page } from '../../components/ui.tsx';
import { common } from '../../i18n/common.ts';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { useSemesters } from './CoursesPage.tsx';
import { courseMessages, WEEKDAYS } from './messages.ts';
import type { Course } from './useCourseIndex.ts';
import './courses.css';

type CourseCreate = RequestBody<'/api/v1/courses', 'post'>;
type Weekday = (typeof WEEKDAYS)[number];

interface Rule {
  key: number;
  category: string;
  weight: string;
}
interface Slot {
  key: number;
  day: Weekday;
  start_time: string;
  end_time: string;
  room: string;
}
interface FormValues {
  course_code: string;
  course_name: string;
  semester: string;
  credits: string;
  hours_per_week: string;
  absence_penalty: string;
  description: string;
  rules: Rule[];
  slots: Slot[];
}

let nextKey = 1;
const key = () => nextKey++;

function toForm(course: Course | undefined): FormValues {
  return {
    course_code: course?.course_code ?? '',
    course_name: course?.course_name ?? '',
    semester: course?.semester ?? '',
    credits: course ? String(course.credits) : '',
    hours_per_week: course ? String(course.hours_per_week) : '',
    absence_penalty: course ? String(course.absence_penalty) : '',
    description: course?.description ?? '',
    rules: (course?.evaluation_rules ?? []).map((rule) => ({
      key: key(),
      category: rule.category,
      weight: String(rule.weight),
    })),
    slots: (course?.teaching_schedule ?? []).map((slot) => ({
      key: key(),
      day: (WEEKDAYS as readonly string[]).includes(slot.day) ? (slot.day as Weekday) : 'Monday',
      start_time: slot.start_time,
      end_time: slot.end_time,
      room: slot.room ?? '',
    })),
  };
}

/** A number field: empty leaves it out (the server keeps or defaults it). */
function numberOrOmit(value: string): number | undefined {
  return value.trim() === '' ? undefined : Number(value);
}

export function toCourseBody(values: FormValues): CourseCreate {
  const body: CourseCreate = {
    course_code: values.course_code.trim(),
    course_name: values.course_name.trim(),
    semester: values.semester.trim(),
    description: values.description.trim() || null,
    evaluation_rules: values.rules.map((rule) => ({
      category: rule.category.trim(),
      weight: Number(rule.weight),
    })),
    teaching_schedule: values.slots.map((slot) => ({
      day: slot.day,
      start_time: slot.start_time,
      end_time: slot.end_time,
      ...(slot.room.trim() ? { room: slot.room.trim() } : {}),
    })),
  };
  const credits = numberOrOmit(values.credits);
  if (credits !== undefined) body.credits = credits;
  const hours = numberOrOmit(values.hours_per_week);
  if (hours !== undefined) body.hours_per_week = hours;
  const penalty = numberOrOmit(values.absence_penalty);
  if (penalty !== undefined) body.absence_penalty = penalty;
  return body;
}

/** /courses/new and /courses/:id/edit. */
export function CourseFormPage({ id }: { id?: number }) {
  const { client } = useApi();
  const { can } = useAuth();
  const t = useT(courseMessages);
  const tc = useT(common);
  const existing = useQuery({
    queryKey: ['course', id],
    enabled: id !== undefined,
    queryFn: async () =>
      unwrap(await client.GET('/api/v1/courses/{id}', { params: { path: { id: id ?? 0 } } })),
  });
  if (!can('courses:write')) return <p className="banner banner-error">{tc('forbidden')}</p>;
  if (id !== undefined && existing.isPending) return <Loading />;
  if (id !== undefined && existing.isError) return <ErrorBanner error={existing.error} />;
  const title = existing.data
    ? t('editTitle', { name: `${existing.data.course_code} · ${existing.data.course_name}` })
    : t('newTitle');
  return <CourseForm key={id ?? 'new'} course={existing.data} title={title} />;
}

function CourseForm({ course, title }: { course: Course | undefined; title: string }) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const t = useT(courseMessages);
  const tc = useT(common);
  const format = useFormat();
  const semesters = useSemesters();
  const semestersId = useId();
  const [values, setValues] = useState(() => toForm(course));

  const save = useMutation({
    mutationFn: async (body: CourseCreate) =>
      course
        ? unwrap(
            await client.PATCH('/api/v1/courses/{id}', {
              params: { path: { id: course.id } },
              body,
            }),
          )
        : unwrap(await client.POST('/api/v1/courses', { body })),
    onSuccess: (saved) => {
      queryClient.setQueryData(['course', saved.id], saved);
      void queryClient.invalidateQueries({ queryKey: ['courses'] });
      void queryClient.invalidateQueries({ queryKey: ['audit', 'history', 'COURSE'] });
      navigate(`/courses/${saved.id}`);
    },
  });
  const fieldError = (name: string) =>
    save.error instanceof ApiError ? save.error.fieldError(name) : undefined;
  const set = <K extends keyof FormValues>(name: K, value: FormValues[K]) =>
    setValues((current) => ({ ...current, [name]: value }));
  const setRule = (index: number, patch: Partial<Rule>) =>
    set(
      'rules',
      values.rules.map((rule, at) => (at === index ? { ...rule, ...patch } : rule)),
    );
  const setSlot = (index: number, patch: Partial<Slot>) =>
    set(
      'slots',
      values.slots.map((slot, at) => (at === index ? { ...slot, ...patch } : slot)),
    );
  const totalWeight = values.rules.reduce((sum, rule) => sum + (Number(rule.weight) || 0), 0);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(toCourseBody(values));
  };

  const text = (name: 'course_code' | 'course_name', options: { hint?: string } = {}) => (
    <Field label={t(name)} hint={options.hint} error={fieldError(name)}>
      {(props) => (
        <input
          {...props}
          required
          autoComplete="off"
          value={values[name]}
          onChange={(event) => set(name, event.target.value)}
        />
      )}
    </Field>
  );
  const number = (
    name: 'credits' | 'hours_per_week' | 'absence_penalty',
    options: { hint?: string; step?: string } = {},
  ) => (
    <Field label={t(name)} hint={options.hint} error={fieldError(name)}>
      {(props) => (
        <input
          {...props}
          type="number"
          min={0}
          step={options.step ?? '1'}
          value={values[name]}
          onChange={(event) => set(name, event.target.value)}
        />
      )}
    </Field>
  );

  return (
    <Page title={title}>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorBanner error={save.error} />
        <div className="form-grid">
          {text('course_code', { hint: t('codeHint') })}
          {text('course_name')}
          <Field label={t('semester')} error={fieldError('semester')}>
            {(props) => (
              <input
                {...props}
                required
                list={semestersId}
                autoComplete="off"
                value={values.semester}
                onChange={(event) => set('semester', event.target.value)}
              />
            )}
          </Field>
          <datalist id={semestersId}>
            {(semesters.data?.semesters ?? []).map((semester) => (
              <option key={semester} value={semester} />
            ))}
          </datalist>
          {number('credits')}
          {number('hours_per_week', { step: '0.5' })}
          {number('absence_penalty', { hint: t('absencePenaltyHint'), step: '0.1' })}
          <div className="wide">
            <Field label={t('description')} error={fieldError('description')}>
              {(props) => (
                <textarea
                  {...props}
                  rows={3}
                  value={values.description}
                  onChange={(event) => set('description', event.target.value)}
                />
              )}
            </Field>
          </div>
        </div>

        <fieldset className="rows-editor">
          <legend>{t('evaluation_rules')}</legend>
          <p className="field-hint">{t('rulesHint')}</p>
          {fieldError('evaluation_rules') ? (
            <p className="field-error" role="alert">
              {fieldError('evaluation_rules')}
            </p>
          ) : null}
          {values.rules.length === 0 ? <p>{t('noRules')}</p> : null}
          {values.rules.map((rule, index) => (
            <div className="rows-editor-row" key={rule.key}>
              <Field
                label={`${t('category')} ${index + 1}`}
                error={fieldError(`evaluation_rules.${index}.category`)}
              >
                {(props) => (
                  <input
                    {...props}
                    value={rule.category}
                    onChange={(event) => setRule(index, { category: event.target.value })}
                  />
                )}
              </Field>
              <Field
                label={`${t('weight')} ${index + 1}`}
                error={fieldError(`evaluation_rules.${index}.weight`)}
              >
                {(props) => (
                  <input
                    {...props}
                    type="number"
                    min={0}
                    max={100}
                    step="0.1"
                    value={rule.weight}
                    onChange={(event) => setRule(index, { weight: event.target.value })}
                  />
                )}
              </Field>
              <button
                type="button"
                onClick={() =>
                  set(
                    'rules',
                    values.rules.filter((_, at) => at !== index),
                  )
                }
              >
                {t('removeRule', { n: index + 1 })}
              </button>
            </div>
          ))}
          <div className="rows-editor-footer">
            <button
              type="button"
              onClick={() =>
                set('rules', [...values.rules, { key: key(), category: '', weight: '' }])
              }
            >
              {t('addRule')}
            </button>
            <span aria-live="polite" className={totalWeight > 100 ? 'field-error' : 'summary'}>
              {t('rulesTotal', { total: format.number(totalWeight) })}
            </span>
          </div>
        </fieldset>

        <fieldset className="rows-editor">
          <legend>{t('teaching_schedule')}</legend>
          {values.slots.length === 0 ? <p>{t('noSchedule')}</p> : null}
          {values.slots.map((slot, index) => (
            <div className="rows-editor-row" key={slot.key}>
              <Field
                label={`${t('day')} ${index + 1}`}
                error={fieldError(`teaching_schedule.${index}.day`)}
              >
                {(props) => (
                  <select
                    {...props}
                    value={slot.day}
                    onChange={(event) => setSlot(index, { day: event.target.value as Weekday })}
                  >
                    {WEEKDAYS.map((day) => (
                      <option key={day} value={day}>
                        {t(`weekday_${day}`)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field
                label={`${t('startTime')} ${index + 1}`}
                error={fieldError(`teaching_schedule.${index}.start_time`)}
              >
                {(props) => (
                  <input
                    {...props}
                    type="time"
                    value={slot.start_time}
                    onChange={(event) => setSlot(index, { start_time: event.target.value })}
                  />
                )}
              </Field>
              <Field
                label={`${t('endTime')} ${index + 1}`}
                error={fieldError(`teaching_schedule.${index}.end_time`)}
              >
                {(props) => (
                  <input
                    {...props}
                    type="time"
                    value={slot.end_time}
                    onChange={(event) => setSlot(index, { end_time: event.target.value })}
                  />
                )}
              </Field>
              <Field
                label={`${t('room')} ${index + 1}`}
                error={fieldError(`teaching_schedule.${index}.room`)}
              >
                {(props) => (
                  <input
                    {...props}
                    value={slot.room}
                    onChange={(event) => setSlot(index, { room: event.target.value })}
                  />
                )}
              </Field>
              <button
                type="button"
                onClick={() =>
                  set(
                    'slots',
                    values.slots.filter((_, at) => at !== index),
                  )
                }
              >
                {t('removeSlot', { n: index + 1 })}
              </button>
            </div>
          ))}
          <div className="rows-editor-footer">
            <button
              type="button"
              onClick={() =>
                set('slots', [
                  ...values.slots,
                  { key: key(), day: 'Monday', start_time: '09:00', end_time: '10:00', room: '' },
                ])
              }
            >
              {t('addSlot')}
            </button>
          </div>
        </fieldset>

        <div className="form-actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            {tc('save')}
          </button>
          <Link to={course ? `/courses/${course.id}` : '/courses'} className="button">
            {tc('cancel')}
          </Link>
        </div>
      </form>
    </Page>
  );
}
