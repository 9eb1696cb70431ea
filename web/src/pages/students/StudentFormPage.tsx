import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, unwrap } from '../../api/client.ts';
import type { RequestBody, ResponseBody } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { Link, navigate } from '../../app/router.tsx';
import { ErrorBanner, Field, Loading, Page } from '../../components/ui.tsx';
import { common } from '../../i18n/common.ts';
import { useT } from '../../i18n/i18n.tsx';
import { studentMessages } from './messages.ts';

type Student = ResponseBody<'/api/v1/students/{id}', 'get'>;
type StudentCreate = RequestBody<'/api/v1/students', 'post'>;

const TEXT_FIELDS = [
  'student_id',
  'last_name',
  'first_name',
  'father_name',
  'email',
  'mobile_phone',
  'phone',
  'class_division',
  'academic_year',
  'enrollment_date',
  'health_issue',
  'note',
] as const;

type TextField = (typeof TEXT_FIELDS)[number];
type FormValues = Record<TextField | 'study_year', string> & { is_active: boolean };

function toForm(student: Student | undefined): FormValues {
  const values = { is_active: student?.is_active ?? true } as FormValues;
  for (const name of TEXT_FIELDS) values[name] = student?.[name] ?? '';
  values.study_year = student?.study_year ? String(student.study_year) : '';
  return values;
}

/** The form as the API's body: trimmed text, empty optional fields as null. */
export function toStudentBody(values: FormValues): StudentCreate {
  const text = (name: TextField) => {
    const value = values[name].trim();
    return value === '' ? null : value;
  };
  return {
    student_id: values.student_id.trim(),
    first_name: values.first_name.trim(),
    last_name: values.last_name.trim(),
    father_name: text('father_name'),
    email: text('email'),
    mobile_phone: text('mobile_phone'),
    phone: text('phone'),
    study_year: values.study_year === '' ? null : Number(values.study_year),
    class_division: text('class_division'),
    academic_year: text('academic_year'),
    enrollment_date: text('enrollment_date'),
    is_active: values.is_active,
    health_issue: text('health_issue'),
    note: text('note'),
  };
}

/** /students/new and /students/:id/edit. */
export function StudentFormPage({ id }: { id?: number }) {
  const { client } = useApi();
  const { can } = useAuth();
  const t = useT(studentMessages);
  const tc = useT(common);
  const existing = useQuery({
    queryKey: ['student', id],
    enabled: id !== undefined,
    queryFn: async () =>
      unwrap(await client.GET('/api/v1/students/{id}', { params: { path: { id: id ?? 0 } } })),
  });

  if (!can('students:write')) return <p className="banner banner-error">{tc('forbidden')}</p>;
  if (id !== undefined && existing.isPending) return <Loading />;
  if (id !== undefined && existing.isError) return <ErrorBanner error={existing.error} />;
  return <StudentForm key={id ?? 'new'} student={existing.data} title={title()} />;

  function title() {
    if (!existing.data) return t('newTitle');
    return t('editTitle', { name: `${existing.data.first_name} ${existing.data.last_name}` });
  }
}

function StudentForm({ student, title }: { student: Student | undefined; title: string }) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const t = useT(studentMessages);
  const tc = useT(common);
  const [values, setValues] = useState(() => toForm(student));

  const save = useMutation({
    mutationFn: async (body: StudentCreate) =>
      student
        ? unwrap(
            await client.PATCH('/api/v1/students/{id}', {
              params: { path: { id: student.id } },
              body,
            }),
          )
        : unwrap(await client.POST('/api/v1/students', { body })),
    onSuccess: (saved) => {
      queryClient.setQueryData(['student', saved.id], saved);
      void queryClient.invalidateQueries({ queryKey: ['students'] });
      void queryClient.invalidateQueries({ queryKey: ['audit', 'history', 'STUDENT'] });
      navigate(`/students/${saved.id}`);
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(toStudentBody(values));
  };
  const error = save.error;
  const fieldError = (name: string) =>
    error instanceof ApiError ? error.fieldError(name) : undefined;
  const set = (name: keyof FormValues, value: string | boolean) =>
    setValues((current) => ({ ...current, [name]: value }));

  const text = (
    name: TextField,
    options: {
      required?: boolean;
      type?: string;
      hint?: string;
      autoComplete?: string;
      wide?: boolean;
    } = {},
  ) => (
    <div className={options.wide ? 'wide' : undefined}>
      <Field label={t(name)} hint={options.hint} error={fieldError(name)}>
        {(props) => (
          <input
            {...props}
            type={options.type ?? 'text'}
            required={options.required}
            autoComplete={options.autoComplete ?? 'off'}
            value={values[name]}
            onChange={(event) => set(name, event.target.value)}
          />
        )}
      </Field>
    </div>
  );

  return (
    <Page title={title}>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorBanner error={error} />
        <div className="form-grid">
          {text('student_id', { required: true, hint: t('studentIdHint') })}
          {text('email', { type: 'email' })}
          {text('last_name', { required: true })}
          {text('first_name', { required: true })}
          {text('father_name')}
          {text('mobile_phone', { type: 'tel' })}
          {text('phone', { type: 'tel' })}
          <Field label={t('study_year')} error={fieldError('study_year')}>
            {(props) => (
              <select
                {...props}
                value={values.study_year}
                onChange={(event) => set('study_year', event.target.value)}
              >
                <option value="">—</option>
                {Array.from({ length: 12 }, (_, index) => String(index + 1)).map((year) => (
                  <option key={year} value={year}>
                    {t('yearOption', { year })}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {text('class_division')}
          {text('academic_year', { hint: t('academicYearHint') })}
          {text('enrollment_date', { type: 'date' })}
          <div className="field">
            <label className="checkbox-label">
              <input
                type="checkbox"
                checked={values.is_active}
                onChange={(event) => set('is_active', event.target.checked)}
              />{' '}
              {t('is_active')}
            </label>
          </div>
          <div className="wide">
            <Field label={t('health_issue')} error={fieldError('health_issue')}>
              {(props) => (
                <textarea
                  {...props}
                  rows={2}
                  value={values.health_issue}
                  onChange={(event) => set('health_issue', event.target.value)}
                />
              )}
            </Field>
          </div>
          <div className="wide">
            <Field label={t('note')} error={fieldError('note')}>
              {(props) => (
                <textarea
                  {...props}
                  rows={3}
                  value={values.note}
                  onChange={(event) => set('note', event.target.value)}
                />
              )}
            </Field>
          </div>
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            {tc('save')}
          </button>
          <Link to={student ? `/students/${student.id}` : '/students'} className="button">
            {tc('cancel')}
          </Link>
        </div>
      </form>
    </Page>
  );
}
