import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useId, useMemo, useState } from 'react';
import { ApiError, errorMessage, unwrap } from '../../api/client.ts';
import type { RequestBody, ResponseBody } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { Link } from '../../app/router.tsx';
import {
  AttendanceBadge,
  type AttendanceStatus,
  attendanceMessages,
} from '../../components/AttendanceBadge.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { ErrorBanner, Field, Loading, Pagination } from '../../components/ui.tsx';
import { common } from '../../i18n/common.ts';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { courseMessages } from './messages.ts';
import type { Course } from './useCourseIndex.ts';
import { type EnrolledStudent, studentName, useEnrolledStudents } from './useEnrolledStudents.ts';

const GRADES_PAGE = 50;
const ATTENDANCE_STATUSES: AttendanceStatus[] = ['Present', 'Absent', 'Late', 'Excused'];

function MoreNote({ shown, total }: { shown: number; total: number }) {
  const t = useT(courseMessages);
  const format = useFormat();
  if (total <= shown) return null;
  return (
    <p className="summary">
      {t('showMore', { shown: format.number(shown), total: format.number(total) })}
    </p>
  );
}

// ---------------------------------------------------------------------------------------
// Students
// ---------------------------------------------------------------------------------------

export function CourseStudentsTab({ courseId }: { courseId: number }) {
  const t = useT(courseMessages);
  const format = useFormat();
  const { enrollments, rows, total } = useEnrolledStudents(courseId);
  if (enrollments.isPending) return <Loading />;
  if (enrollments.isError)
    return <ErrorBanner error={enrollments.error} onRetry={() => void enrollments.refetch()} />;
  if (rows.length === 0) return <p>{t('noStudents')}</p>;
  return (
    <>
      <table className="data">
        <thead>
          <tr>
            <th scope="col">{t('studentId')}</th>
            <th scope="col">{t('student')}</th>
            <th scope="col">{t('enrollmentStatus')}</th>
            <th scope="col">{t('enrolledOn')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.enrollment.id}>
              <td>{row.student?.student_id ?? '…'}</td>
              <td>
                <Link to={`/students/${row.enrollment.student_id}`}>{studentName(row)}</Link>
              </td>
              <td>{t(`enrollment_${row.enrollment.status}`)}</td>
              <td className="nowrap">
                {format.date(row.enrollment.enrollment_date ?? row.enrollment.created_at)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <MoreNote shown={rows.length} total={total} />
    </>
  );
}

// ---------------------------------------------------------------------------------------
// Grades
// ---------------------------------------------------------------------------------------

type Grade = ResponseBody<'/api/v1/grades/{id}', 'get'>;
type GradeCreate = RequestBody<'/api/v1/grades', 'post'>;

const EMPTY_GRADE = {
  student_id: '',
  assignment_name: '',
  category: '',
  grade: '',
  max_grade: '',
  weight: '',
  date_assigned: '',
  date_submitted: '',
  notes: '',
};
type GradeValues = typeof EMPTY_GRADE;

function gradeToValues(grade: Grade): GradeValues {
  return {
    student_id: String(grade.student_id),
    assignment_name: grade.assignment_name,
    category: grade.category ?? '',
    grade: String(grade.grade),
    max_grade: String(grade.max_grade),
    weight: String(grade.weight),
    date_assigned: grade.date_assigned ?? '',
    date_submitted: grade.date_submitted ?? '',
    notes: grade.notes ?? '',
  };
}

function GradeEditor({
  course,
  students,
  editing,
  onDone,
}: {
  course: Course;
  students: EnrolledStudent[];
  editing: Grade | null;
  onDone(): void;
}) {
  const t = useT(courseMessages);
  const tc = useT(common);
  const { client } = useApi();
  const queryClient = useQueryClient();
  const categoriesId = useId();
  const [values, setValues] = useState<GradeValues>(() =>
    editing ? gradeToValues(editing) : EMPTY_GRADE,
  );
  const save = useMutation({
    mutationFn: async (body: GradeCreate) =>
      editing
        ? unwrap(
            await client.PATCH('/api/v1/grades/{id}', {
              params: { path: { id: editing.id } },
              body,
            }),
          )
        : unwrap(await client.POST('/api/v1/grades', { body })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['grades'] });
      void queryClient.invalidateQueries({ queryKey: ['results'] });
      setValues({
        ...EMPTY_GRADE,
        assignment_name: values.assignment_name,
        category: values.category,
      });
      onDone();
    },
  });
  const fieldError = (name: string) =>
    save.error instanceof ApiError ? save.error.fieldError(name) : undefined;
  const text = (value: string) => (value.trim() === '' ? null : value.trim());
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body: GradeCreate = {
      student_id: Number(values.student_id),
      course_id: course.id,
      assignment_name: values.assignment_name.trim(),
      category: text(values.category),
      // An empty grade goes as null, so the API names the field that is missing.
      grade: (values.grade === '' ? null : Number(values.grade)) as number,
      date_assigned: text(values.date_assigned),
      date_submitted: text(values.date_submitted),
      notes: text(values.notes),
    };
    if (values.max_grade !== '') body.max_grade = Number(values.max_grade);
    if (values.weight !== '') body.weight = Number(values.weight);
    save.mutate(body);
  };
  const input = (
    name: Exclude<keyof GradeValues, 'student_id'>,
    label: string,
    options: { type?: string; hint?: string; list?: string; step?: string } = {},
  ) => (
    <Field label={label} hint={options.hint} error={fieldError(name)}>
      {(props) => (
        <input
          {...props}
          type={options.type ?? 'text'}
          list={options.list}
          step={options.step}
          min={options.type === 'number' ? 0 : undefined}
          value={values[name]}
          onChange={(event) => setValues({ ...values, [name]: event.target.value })}
        />
      )}
    </Field>
  );
  const hasOtherErrors =
    save.error && !(save.error instanceof ApiError && save.error.problem.errors?.length);

  return (
    <form
      className="inline-form grade-editor"
      onSubmit={submit}
      aria-label={editing ? t('editGrade') : t('addGrade')}
      noValidate
    >
      <h3 className="inline-form-title">{editing ? t('editGrade') : t('addGrade')}</h3>
      <Field label={t('student')} error={fieldError('student_id')}>
        {(props) => (
          <select
            {...props}
            required
            value={values.student_id}
            onChange={(event) => setValues({ ...values, student_id: event.target.value })}
          >
            <option value="">{t('chooseStudent')}</option>
            {students.map((row) => (
              <option key={row.enrollment.student_id} value={row.enrollment.student_id}>
                {studentName(row)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {input('assignment_name', t('assignment'))}
      {input('category', t('category'), { list: categoriesId })}
      <datalist id={categoriesId}>
        {course.evaluation_rules.map((rule) => (
          <option key={rule.category} value={rule.category} />
        ))}
      </datalist>
      {input('grade', t('grade'), { type: 'number', step: 'any' })}
      {input('max_grade', t('maxGrade'), { type: 'number', step: 'any', hint: t('maxGradeHint') })}
      {input('weight', t('weight').replace(' (%)', ''), {
        type: 'number',
        step: 'any',
        hint: t('weightHint'),
      })}
      {input('date_assigned', t('dateAssigned'), { type: 'date' })}
      {input('date_submitted', t('dateSubmitted'), { type: 'date' })}
      {input('notes', t('notes'))}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {tc('save')}
        </button>
        {editing ? (
          <button type="button" onClick={onDone}>
            {tc('cancel')}
          </button>
        ) : null}
      </div>
      {save.isSuccess ? (
        <span role="status" className="summary">
          {t('gradeSaved')}
        </span>
      ) : null}
      {hasOtherErrors ? <ErrorBanner error={save.error} /> : null}
    </form>
  );
}

export function CourseGradesTab({ course }: { course: Course }) {
  const t = useT(courseMessages);
  const tc = useT(common);
  const format = useFormat();
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const { rows } = useEnrolledStudents(course.id);
  const [editing, setEditing] = useState<Grade | null>(null);
  const [page, setPage] = useState(1);
  const [studentFilter, setStudentFilter] = useState('');
  const query = {
    page,
    page_size: GRADES_PAGE,
    sort: '-date_assigned',
    ...(studentFilter ? { student_id: Number(studentFilter) } : {}),
  };
  const list = useQuery({
    queryKey: ['grades', { course_id: course.id, ...query }],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/courses/{id}/grades', {
          params: { path: { id: course.id }, query },
        }),
      ),
  });
  const remove = useMutation({
    mutationFn: async (id: number) =>
      unwrap(await client.DELETE('/api/v1/grades/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['grades'] });
      void queryClient.invalidateQueries({ queryKey: ['results'] });
    },
  });
  const names = useMemo(
    () => new Map(rows.map((row) => [row.enrollment.student_id, studentName(row)])),
    [rows],
  );
  const writable = can('grades:write');
  return (
    <>
      {writable ? (
        <GradeEditor
          key={editing?.id ?? 'new'}
          course={course}
          students={rows}
          editing={editing}
          onDone={() => setEditing(null)}
        />
      ) : null}
      <div className="toolbar">
        <Field label={t('filterStudent')}>
          {(props) => (
            <select
              {...props}
              value={studentFilter}
              onChange={(event) => {
                setStudentFilter(event.target.value);
                setPage(1);
              }}
            >
              <option value="">{t('allStudents')}</option>
              {rows.map((row) => (
                <option key={row.enrollment.student_id} value={row.enrollment.student_id}>
                  {studentName(row)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <ErrorBanner error={list.error ?? remove.error} onRetry={() => void list.refetch()} />
      {list.isPending ? <Loading /> : null}
      {list.data && list.data.items.length === 0 ? <p>{t('noGrades')}</p> : null}
      {list.data && list.data.items.length > 0 ? (
        <>
          <table className="data" aria-busy={list.isFetching}>
            <thead>
              <tr>
                <th scope="col">{t('student')}</th>
                <th scope="col">{t('assignment')}</th>
                <th scope="col" className="number">
                  {t('grade')}
                </th>
                <th scope="col" className="number">
                  {t('percentage')}
                </th>
                <th scope="col" className="number">
                  {t('weight').replace(' (%)', '')}
                </th>
                <th scope="col">{t('dateAssigned')}</th>
                {writable ? <th scope="col">{t('actions')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((grade) => {
                const who = names.get(grade.student_id) ?? `#${grade.student_id}`;
                return (
                  <tr key={grade.id} aria-current={editing?.id === grade.id ? 'true' : undefined}>
                    <td>
                      <Link to={`/students/${grade.student_id}`}>{who}</Link>
                    </td>
                    <td>
                      {grade.assignment_name}
                      {grade.category ? <span className="cell-note">{grade.category}</span> : null}
                    </td>
                    <td className="number">
                      {format.number(grade.grade)} / {format.number(grade.max_grade)}
                    </td>
                    <td className="number">
                      {grade.max_grade > 0 ? format.percent(grade.grade / grade.max_grade) : '—'}
                    </td>
                    <td className="number">{format.number(grade.weight)}</td>
                    <td className="nowrap">{format.date(grade.date_assigned)}</td>
                    {writable ? (
                      <td className="row-actions">
                        <button
                          type="button"
                          onClick={() => setEditing(grade)}
                          aria-label={`${tc('edit')}: ${grade.assignment_name}, ${who}`}
                        >
                          {tc('edit')}
                        </button>
                        <ConfirmButton
                          label={tc('delete')}
                          question={t('deleteGradeQuestion', {
                            name: grade.assignment_name,
                            student: who,
                          })}
                          busy={remove.isPending}
                          onConfirm={() => remove.mutate(grade.id)}
                        />
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
          <Pagination
            page={list.data.page}
            pageSize={list.data.page_size}
            total={list.data.total}
            hasNext={list.data.has_next}
            onPage={setPage}
          />
        </>
      ) : null}
    </>
  );
}

// ---------------------------------------------------------------------------------------
// Attendance
// ---------------------------------------------------------------------------------------

type Attendance = ResponseBody<'/api/v1/attendance/{id}', 'get'>;

/** Today as YYYY-MM-DD in the browser's own time zone. */
function today(): string {
  const now = new Date();
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function CourseAttendanceTab({ courseId }: { courseId: number }) {
  const t = useT(courseMessages);
  const ta = useT(attendanceMessages);
  const format = useFormat();
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const { rows, enrollments } = useEnrolledStudents(courseId);
  const [date, setDate] = useState(today);
  const [period, setPeriod] = useState('1');
  const [marks, setMarks] = useState<Record<number, AttendanceStatus | ''>>({});
  const [failures, setFailures] = useState<Record<number, string>>({});
  const [saved, setSaved] = useState<number | null>(null);
  const validDate = /^\d{4}-\d{2}-\d{2}$/.test(date);
  const query = { date_from: date, date_to: date, page_size: 500, sort: 'period_number' };
  const existing = useQuery({
    queryKey: ['attendance', { course_id: courseId, ...query }],
    enabled: validDate,
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/courses/{id}/attendance', {
          params: { path: { id: courseId }, query },
        }),
      ),
  });
  const recorded = useMemo(() => {
    const byStudent = new Map<number, Attendance>();
    for (const record of existing.data?.items ?? []) {
      if (String(record.period_number) === period) byStudent.set(record.student_id, record);
    }
    return byStudent;
  }, [existing.data, period]);
  // The sheet starts from what is recorded for the chosen date and period.
  useEffect(() => {
    const initial: Record<number, AttendanceStatus | ''> = {};
    for (const [studentId, record] of recorded) initial[studentId] = record.status;
    setMarks(initial);
    setFailures({});
  }, [recorded]);

  const writable = can('attendance:write');
  const changes = rows
    .map((row) => {
      const studentId = row.enrollment.student_id;
      const mark = marks[studentId] ?? '';
      const before = recorded.get(studentId);
      return { studentId, mark, before };
    })
    .filter(({ mark, before }) => mark !== (before?.status ?? ''));

  const save = useMutation({
    mutationFn: async () => {
      const failed: Record<number, string> = {};
      let done = 0;
      for (const { studentId, mark, before } of changes) {
        try {
          if (before && mark === '') {
            unwrap(
              await client.DELETE('/api/v1/attendance/{id}', {
                params: { path: { id: before.id } },
              }),
            );
          } else if (before && mark !== '') {
            unwrap(
              await client.PATCH('/api/v1/attendance/{id}', {
                params: { path: { id: before.id } },
                body: { status: mark },
              }),
            );
          } else if (mark !== '') {
            unwrap(
              await client.POST('/api/v1/attendance', {
                body: {
                  student_id: studentId,
                  course_id: courseId,
                  date,
                  status: mark,
                  period_number: Number(period),
                },
              }),
            );
          }
          done += 1;
        } catch (error) {
          failed[studentId] = errorMessage(error);
        }
      }
      return { done, failed };
    },
    onSuccess: ({ done, failed }) => {
      setSaved(done);
      setFailures(failed);
      void queryClient.invalidateQueries({ queryKey: ['attendance'] });
      void queryClient.invalidateQueries({ queryKey: ['results'] });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(null);
    if (changes.length === 0) {
      setSaved(0);
      return;
    }
    save.mutate();
  };
  const markAllPresent = () =>
    setMarks((current) => {
      const next = { ...current };
      for (const row of rows) {
        const id = row.enrollment.student_id;
        if (!next[id]) next[id] = 'Present';
      }
      return next;
    });

  if (enrollments.isPending) return <Loading />;
  if (enrollments.isError)
    return <ErrorBanner error={enrollments.error} onRetry={() => void enrollments.refetch()} />;

  return (
    <form className="attendance-sheet" onSubmit={submit} aria-label={t('markAttendance')}>
      <div className="toolbar">
        <Field label={t('attendanceDate')}>
          {(props) => (
            <input
              {...props}
              type="date"
              required
              value={date}
              onChange={(event) => {
                setSaved(null);
                setDate(event.target.value);
              }}
            />
          )}
        </Field>
        <Field label={t('period')}>
          {(props) => (
            <select
              {...props}
              value={period}
              onChange={(event) => {
                setSaved(null);
                setPeriod(event.target.value);
              }}
            >
              {Array.from({ length: 12 }, (_, index) => String(index + 1)).map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          )}
        </Field>
        {writable && rows.length > 0 ? (
          <button type="button" onClick={markAllPresent}>
            {t('allPresent')}
          </button>
        ) : null}
      </div>
      <ErrorBanner error={existing.error} onRetry={() => void existing.refetch()} />
      {rows.length === 0 ? (
        <p>{t('noStudents')}</p>
      ) : (
        <table className="data">
          <caption className="visually-hidden">
            {t('attendanceFor', { date: format.date(date), period })}
          </caption>
          <thead>
            <tr>
              <th scope="col">{t('student')}</th>
              <th scope="col">{t('attendanceStatus')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const id = row.enrollment.student_id;
              const mark = marks[id] ?? '';
              const name = studentName(row);
              return (
                <tr key={row.enrollment.id}>
                  <th scope="row">
                    <Link to={`/students/${id}`}>{name}</Link>
                  </th>
                  <td>
                    {writable ? (
                      <select
                        aria-label={t('statusFor', { student: name })}
                        value={mark}
                        disabled={existing.isPending}
                        onChange={(event) =>
                          setMarks({ ...marks, [id]: event.target.value as AttendanceStatus | '' })
                        }
                      >
                        <option value="">{t('notMarked')}</option>
                        {ATTENDANCE_STATUSES.map((status) => (
                          <option key={status} value={status}>
                            {ta(status)}
                          </option>
                        ))}
                      </select>
                    ) : mark ? (
                      <AttendanceBadge status={mark} />
                    ) : (
                      t('notMarked')
                    )}
                    {failures[id] ? (
                      <p className="field-error" role="alert">
                        {failures[id]}
                      </p>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {writable && rows.length > 0 ? (
        <div className="form-actions section-actions">
          <button type="submit" className="primary" disabled={save.isPending || !validDate}>
            {t('saveAttendance')}
          </button>
          {saved !== null ? (
            <span role="status" className="summary">
              {saved === 0 && changes.length === 0
                ? t('attendanceUnchanged')
                : t('attendanceSaved', { count: saved })}
            </span>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

// ---------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------

export function CourseResultsTab({ courseId }: { courseId: number }) {
  const t = useT(courseMessages);
  const format = useFormat();
  const { client } = useApi();
  const points = (value: number | null | undefined) =>
    value === null || value === undefined ? '—' : format.percent(value / 100);
  const results = useQuery({
    queryKey: ['results', 'course', courseId],
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/courses/{id}/results', { params: { path: { id: courseId } } }),
      ),
  });
  if (results.isPending) return <Loading />;
  if (results.isError)
    return <ErrorBanner error={results.error} onRetry={() => void results.refetch()} />;
  const { statistics, items } = results.data;
  if (items.length === 0) return <p>{t('noResults')}</p>;
  const largest = Math.max(1, ...statistics.distribution.map((band) => band.count));
  const card = (label: string, value: string) => (
    <div className="card" key={label}>
      <div className="card-value">{value}</div>
      <div className="card-label">{label}</div>
    </div>
  );
  return (
    <>
      <section aria-label={t('statistics')}>
        <h2>{t('statistics')}</h2>
        <div className="stats">
          {card(t('statStudents'), format.number(statistics.students))}
          {card(t('statMean'), points(statistics.mean))}
          {card(t('statMedian'), points(statistics.median))}
          {card(t('statMin'), points(statistics.min))}
          {card(t('statMax'), points(statistics.max))}
          {card(t('statUngraded'), format.number(statistics.ungraded))}
        </div>
        {statistics.distribution.length > 0 ? (
          <table className="data distribution">
            <caption className="visually-hidden">{t('distribution')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('letter')}</th>
                <th scope="col">{t('count')}</th>
              </tr>
            </thead>
            <tbody>
              {statistics.distribution.map((band) => (
                <tr key={band.letter}>
                  <th scope="row">{band.letter}</th>
                  <td>
                    <span
                      className="bar"
                      aria-hidden="true"
                      style={{ width: `${(band.count / largest) * 12}rem` }}
                    />
                    {format.number(band.count)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <h2>{t('tabResults')}</h2>
      <table className="data">
        <thead>
          <tr>
            <th scope="col">{t('student')}</th>
            <th scope="col" className="number">
              {t('weightedPercentage')}
            </th>
            <th scope="col" className="number">
              {t('absence_penalty')}
            </th>
            <th scope="col" className="number">
              {t('finalPercentage')}
            </th>
            <th scope="col">{t('letter')}</th>
            <th scope="col" className="number">
              {t('attendanceRate')}
            </th>
            <th scope="col" className="number">
              {t('averagePerformance')}
            </th>
            <th scope="col" className="number">
              {t('gradeCount')}
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((result) => (
            <tr key={result.id}>
              <td>
                <Link to={`/students/${result.student.id}`}>
                  {result.student.last_name} {result.student.first_name}
                </Link>{' '}
                <span className="summary">({result.student.student_id})</span>
              </td>
              <td className="number">{points(result.weighted_percentage)}</td>
              <td className="number">{format.number(result.absence_penalty)}</td>
              <td className="number">
                <strong>{points(result.final_percentage)}</strong>
              </td>
              <td>{result.letter_grade ?? '—'}</td>
              <td className="number">{points(result.attendance_rate)}</td>
              <td className="number">{points(result.average_performance)}</td>
              <td className="number">{format.number(result.grade_count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
