import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { ApiError, unwrap } from '../../api/client.ts';
import type { RequestBody } from '../../api/types.ts';
import { useApi } from '../../app/api-context.tsx';
import { useAuth } from '../../app/auth.tsx';
import { Link } from '../../app/router.tsx';
import { AttendanceBadge } from '../../components/AttendanceBadge.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { ErrorBanner, Field, Loading, Pagination } from '../../components/ui.tsx';
import { common } from '../../i18n/common.ts';
import { useFormat, useT } from '../../i18n/i18n.tsx';
import { useCourseIndex } from '../courses/useCourseIndex.ts';
import { studentMessages } from './messages.ts';

/** How many records a tab shows at once: the newest, with a note when there are more. */
const TAB_PAGE = 200;
/** Grades and attendance page through the API, this many at a time. */
const LIST_PAGE = 50;

function CourseLink({ courseId }: { courseId: number }) {
  const { byId } = useCourseIndex();
  const course = byId.get(courseId);
  return (
    <Link to={`/courses/${courseId}`}>
      {course ? `${course.course_code} · ${course.course_name}` : `#${courseId}`}
    </Link>
  );
}

function MoreNote({ shown, total }: { shown: number; total: number }) {
  const t = useT(studentMessages);
  const format = useFormat();
  if (total <= shown) return null;
  return (
    <p className="summary">
      {t('showMore', { shown: format.number(shown), total: format.number(total) })}
    </p>
  );
}

// ---------------------------------------------------------------------------------------
// Enrolments
// ---------------------------------------------------------------------------------------

export function StudentEnrollmentsTab({ studentId }: { studentId: number }) {
  const t = useT(studentMessages);
  const format = useFormat();
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const { courses, byId } = useCourseIndex();
  const [courseId, setCourseId] = useState('');
  const query = { page_size: TAB_PAGE, sort: '-created_at' };
  const list = useQuery({
    queryKey: ['enrollments', { student_id: studentId, ...query }],
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/students/{id}/enrollments', {
          params: { path: { id: studentId }, query },
        }),
      ),
  });
  const changed = () => {
    void queryClient.invalidateQueries({ queryKey: ['enrollments'] });
    void queryClient.invalidateQueries({ queryKey: ['results'] });
  };
  const enroll = useMutation({
    mutationFn: async (course: number) =>
      unwrap(
        await client.POST('/api/v1/enrollments', {
          body: { student_id: studentId, course_id: course, status: 'active' },
        }),
      ),
    onSuccess: () => {
      setCourseId('');
      changed();
    },
  });
  const remove = useMutation({
    mutationFn: async (id: number) =>
      unwrap(await client.DELETE('/api/v1/enrollments/{id}', { params: { path: { id } } })),
    onSuccess: changed,
  });

  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />;
  const enrolled = new Set(list.data.items.map((item) => item.course_id));
  const writable = can('enrollments:write');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (courseId) enroll.mutate(Number(courseId));
  };
  const courseError =
    enroll.error instanceof ApiError ? enroll.error.fieldError('course_id') : undefined;

  return (
    <>
      {writable ? (
        <form className="inline-form" onSubmit={submit} aria-label={t('enrollIn')}>
          <Field label={t('enrollIn')} error={courseError}>
            {(props) => (
              <select
                {...props}
                value={courseId}
                onChange={(event) => setCourseId(event.target.value)}
              >
                <option value="">{t('chooseCourse')}</option>
                {courses
                  .filter((course) => !enrolled.has(course.id))
                  .map((course) => (
                    <option key={course.id} value={course.id}>
                      {course.course_code} · {course.course_name} ({course.semester})
                    </option>
                  ))}
              </select>
            )}
          </Field>
          <button type="submit" className="primary" disabled={!courseId || enroll.isPending}>
            {t('enroll')}
          </button>
          {enroll.isSuccess ? (
            <span role="status" className="summary">
              {t('enrolled')}
            </span>
          ) : null}
        </form>
      ) : null}
      <ErrorBanner error={courseError ? null : (enroll.error ?? remove.error)} />
      {list.data.items.length === 0 ? (
        <p>{t('noEnrollments')}</p>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('course')}</th>
              <th scope="col">{t('enrollmentStatus')}</th>
              <th scope="col">{t('enrolledOn')}</th>
              {writable ? <th scope="col">{t('actions')}</th> : null}
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((enrollment) => (
              <tr key={enrollment.id}>
                <td>
                  <CourseLink courseId={enrollment.course_id} />
                </td>
                <td>{t(`enrollment_${enrollment.status}`)}</td>
                <td className="nowrap">
                  {format.date(enrollment.enrollment_date ?? enrollment.created_at)}
                </td>
                {writable ? (
                  <td>
                    <ConfirmButton
                      label={t('unenroll')}
                      question={t('unenrollQuestion', {
                        course:
                          byId.get(enrollment.course_id)?.course_code ?? `#${enrollment.course_id}`,
                      })}
                      busy={remove.isPending}
                      onConfirm={() => remove.mutate(enrollment.id)}
                    />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreNote shown={list.data.items.length} total={list.data.total} />
    </>
  );
}

// ---------------------------------------------------------------------------------------
// Grades
// ---------------------------------------------------------------------------------------

export function StudentGradesTab({ studentId }: { studentId: number }) {
  const t = useT(studentMessages);
  const format = useFormat();
  const { client } = useApi();
  const [page, setPage] = useState(1);
  const query = { page, page_size: LIST_PAGE, sort: '-date_assigned' };
  const list = useQuery({
    queryKey: ['grades', { student_id: studentId, ...query }],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/students/{id}/grades', {
          params: { path: { id: studentId }, query },
        }),
      ),
  });
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />;
  if (list.data.items.length === 0) return <p>{t('noGrades')}</p>;
  return (
    <>
      <table className="data">
        <thead>
          <tr>
            <th scope="col">{t('course')}</th>
            <th scope="col">{t('assignment')}</th>
            <th scope="col">{t('category')}</th>
            <th scope="col" className="number">
              {t('grade')}
            </th>
            <th scope="col" className="number">
              {t('percentage')}
            </th>
            <th scope="col" className="number">
              {t('weight')}
            </th>
            <th scope="col">{t('dateAssigned')}</th>
            <th scope="col">{t('dateSubmitted')}</th>
          </tr>
        </thead>
        <tbody>
          {list.data.items.map((grade) => (
            <tr key={grade.id}>
              <td>
                <CourseLink courseId={grade.course_id} />
              </td>
              <td>{grade.assignment_name}</td>
              <td>{grade.category ?? '—'}</td>
              <td className="number">
                {format.number(grade.grade)} / {format.number(grade.max_grade)}
              </td>
              <td className="number">
                {grade.max_grade > 0 ? format.percent(grade.grade / grade.max_grade) : '—'}
              </td>
              <td className="number">{format.number(grade.weight)}</td>
              <td className="nowrap">{format.date(grade.date_assigned)}</td>
              <td className="nowrap">{format.date(grade.date_submitted)}</td>
            </tr>
          ))}
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
  );
}

// ---------------------------------------------------------------------------------------
// Attendance
// ---------------------------------------------------------------------------------------

export function StudentAttendanceTab({ studentId }: { studentId: number }) {
  const t = useT(studentMessages);
  const format = useFormat();
  const { client } = useApi();
  const [page, setPage] = useState(1);
  const query = { page, page_size: LIST_PAGE, sort: '-date' };
  const list = useQuery({
    queryKey: ['attendance', { student_id: studentId, ...query }],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/students/{id}/attendance', {
          params: { path: { id: studentId }, query },
        }),
      ),
  });
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />;
  if (list.data.items.length === 0) return <p>{t('noAttendance')}</p>;
  const counts = { Present: 0, Absent: 0, Late: 0, Excused: 0 };
  for (const item of list.data.items) counts[item.status] += 1;
  return (
    <>
      {list.data.items.length === list.data.total ? (
        <p className="summary">
          {t('attendanceSummary', {
            present: counts.Present,
            late: counts.Late,
            absent: counts.Absent,
            excused: counts.Excused,
          })}
        </p>
      ) : null}
      <table className="data">
        <thead>
          <tr>
            <th scope="col">{t('date')}</th>
            <th scope="col">{t('course')}</th>
            <th scope="col" className="number">
              {t('period')}
            </th>
            <th scope="col">{t('attendanceStatus')}</th>
            <th scope="col">{t('notes')}</th>
          </tr>
        </thead>
        <tbody>
          {list.data.items.map((record) => (
            <tr key={record.id}>
              <td className="nowrap">{format.date(record.date)}</td>
              <td>
                <CourseLink courseId={record.course_id} />
              </td>
              <td className="number">{format.number(record.period_number)}</td>
              <td>
                <AttendanceBadge status={record.status} />
              </td>
              <td>{record.notes ?? '—'}</td>
            </tr>
          ))}
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
  );
}

// ---------------------------------------------------------------------------------------
// Highlights
// ---------------------------------------------------------------------------------------

type HighlightCreate = RequestBody<'/api/v1/highlights', 'post'>;

function HighlightForm({ studentId, onSaved }: { studentId: number; onSaved(): void }) {
  const t = useT(studentMessages);
  const tc = useT(common);
  const { client } = useApi();
  const { courses } = useCourseIndex();
  const semestersId = useId();
  const [values, setValues] = useState({
    semester: '',
    category: '',
    rating: '',
    is_positive: 'true',
    highlight_text: '',
  });
  const save = useMutation({
    mutationFn: async (body: HighlightCreate) =>
      unwrap(await client.POST('/api/v1/highlights', { body })),
    onSuccess: () => {
      setValues({
        semester: values.semester,
        category: '',
        rating: '',
        is_positive: 'true',
        highlight_text: '',
      });
      onSaved();
    },
  });
  const fieldError = (name: string) =>
    save.error instanceof ApiError ? save.error.fieldError(name) : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      student_id: studentId,
      semester: values.semester.trim(),
      category: values.category.trim() || null,
      rating: values.rating === '' ? null : Number(values.rating),
      is_positive: values.is_positive === 'true',
      highlight_text: values.highlight_text.trim(),
    });
  };
  const semesters = [...new Set(courses.map((course) => course.semester))].sort();
  return (
    <form className="inline-form" onSubmit={submit} aria-label={t('addHighlight')} noValidate>
      <h3 className="inline-form-title">{t('addHighlight')}</h3>
      <Field label={t('semester')} error={fieldError('semester')}>
        {(props) => (
          <input
            {...props}
            list={semestersId}
            required
            value={values.semester}
            onChange={(event) => setValues({ ...values, semester: event.target.value })}
          />
        )}
      </Field>
      <datalist id={semestersId}>
        {semesters.map((semester) => (
          <option key={semester} value={semester} />
        ))}
      </datalist>
      <Field label={t('category')} error={fieldError('category')}>
        {(props) => (
          <input
            {...props}
            value={values.category}
            onChange={(event) => setValues({ ...values, category: event.target.value })}
          />
        )}
      </Field>
      <Field label={t('rating')} hint={t('ratingHint')} error={fieldError('rating')}>
        {(props) => (
          <input
            {...props}
            type="number"
            min={1}
            max={10}
            step={1}
            value={values.rating}
            onChange={(event) => setValues({ ...values, rating: event.target.value })}
          />
        )}
      </Field>
      <Field label={t('kind')} error={fieldError('is_positive')}>
        {(props) => (
          <select
            {...props}
            value={values.is_positive}
            onChange={(event) => setValues({ ...values, is_positive: event.target.value })}
          >
            <option value="true">{t('positive')}</option>
            <option value="false">{t('negative')}</option>
          </select>
        )}
      </Field>
      <div className="wide-field">
        <Field label={t('text')} error={fieldError('highlight_text')}>
          {(props) => (
            <textarea
              {...props}
              rows={2}
              required
              value={values.highlight_text}
              onChange={(event) => setValues({ ...values, highlight_text: event.target.value })}
            />
          )}
        </Field>
      </div>
      <button type="submit" className="primary" disabled={save.isPending}>
        {tc('save')}
      </button>
      {save.isSuccess ? (
        <span role="status" className="summary">
          {t('highlightAdded')}
        </span>
      ) : null}
      {save.error && !(save.error instanceof ApiError && save.error.problem.errors?.length) ? (
        <ErrorBanner error={save.error} />
      ) : null}
    </form>
  );
}

export function StudentHighlightsTab({ studentId }: { studentId: number }) {
  const t = useT(studentMessages);
  const tc = useT(common);
  const format = useFormat();
  const { client } = useApi();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const query = { page_size: TAB_PAGE, sort: '-created_at' };
  const list = useQuery({
    queryKey: ['highlights', { student_id: studentId, ...query }],
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/students/{id}/highlights', {
          params: { path: { id: studentId }, query },
        }),
      ),
  });
  const changed = () => void queryClient.invalidateQueries({ queryKey: ['highlights'] });
  const remove = useMutation({
    mutationFn: async (id: number) =>
      unwrap(await client.DELETE('/api/v1/highlights/{id}', { params: { path: { id } } })),
    onSuccess: changed,
  });
  const writable = can('highlights:write');
  if (list.isPending) return <Loading />;
  if (list.isError) return <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />;
  return (
    <>
      {writable ? <HighlightForm studentId={studentId} onSaved={changed} /> : null}
      <ErrorBanner error={remove.error} />
      {list.data.items.length === 0 ? (
        <p>{t('noHighlights')}</p>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('date')}</th>
              <th scope="col">{t('semester')}</th>
              <th scope="col">{t('kind')}</th>
              <th scope="col">{t('category')}</th>
              <th scope="col" className="number">
                {t('rating')}
              </th>
              <th scope="col">{t('text')}</th>
              {writable ? <th scope="col">{t('actions')}</th> : null}
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((highlight) => (
              <tr
                key={highlight.id}
                className={highlight.is_positive ? 'highlight-positive' : 'highlight-negative'}
              >
                <td className="nowrap">
                  {format.date(highlight.date_created ?? highlight.created_at)}
                </td>
                <td>{highlight.semester}</td>
                <td>
                  <span aria-hidden="true">{highlight.is_positive ? '+ ' : '! '}</span>
                  {highlight.is_positive ? t('positive') : t('negative')}
                </td>
                <td>{highlight.category ?? '—'}</td>
                <td className="number">{format.number(highlight.rating)}</td>
                <td>{highlight.highlight_text}</td>
                {writable ? (
                  <td>
                    <ConfirmButton
                      label={tc('delete')}
                      question={t('deleteHighlightQuestion', {
                        text: highlight.highlight_text.slice(0, 60),
                      })}
                      busy={remove.isPending}
                      onConfirm={() => remove.mutate(highlight.id)}
                    />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MoreNote shown={list.data.items.length} total={list.data.total} />
    </>
  );
}

// ---------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------

/** A percentage the API gives as 0–100. */
function usePoints() {
  const format = useFormat();
  return (value: number | null | undefined) =>
    value === null || value === undefined ? '—' : format.percent(value / 100);
}

export function StudentResultsTab({ studentId }: { studentId: number }) {
  const t = useT(studentMessages);
  const format = useFormat();
  const points = usePoints();
  const { client } = useApi();
  const results = useQuery({
    queryKey: ['results', 'student', studentId],
    queryFn: async () =>
      unwrap(
        await client.GET('/api/v1/students/{id}/results', {
          params: { path: { id: studentId } },
        }),
      ),
  });
  if (results.isPending) return <Loading />;
  if (results.isError)
    return <ErrorBanner error={results.error} onRetry={() => void results.refetch()} />;
  if (results.data.items.length === 0) return <p>{t('noResults')}</p>;
  return (
    <table className="data">
      <thead>
        <tr>
          <th scope="col">{t('course')}</th>
          <th scope="col">{t('semester')}</th>
          <th scope="col" className="number">
            {t('weightedPercentage')}
          </th>
          <th scope="col" className="number">
            {t('absencePenalty')}
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
          <th scope="col">{t('computedAt')}</th>
        </tr>
      </thead>
      <tbody>
        {results.data.items.map((result) => (
          <tr key={result.id}>
            <td>
              <Link to={`/courses/${result.course.id}`}>
                {result.course.course_code} · {result.course.course_name}
              </Link>
            </td>
            <td>{result.course.semester}</td>
            <td className="number">{points(result.weighted_percentage)}</td>
            <td className="number">{format.number(result.absence_penalty)}</td>
            <td className="number">
              <strong>{points(result.final_percentage)}</strong>
            </td>
            <td>{result.letter_grade ?? '—'}</td>
            <td className="number">{points(result.attendance_rate)}</td>
            <td className="number">{points(result.average_performance)}</td>
            <td className="number">{format.number(result.grade_count)}</td>
            <td className="nowrap">{format.dateTime(result.computed_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
