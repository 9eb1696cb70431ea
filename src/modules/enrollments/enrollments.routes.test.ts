import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeCourse as makeCourseWith,
  makeStudent as makeStudentWith,
} from '../../../test/support/factories.ts';
import { createTestApp, type TestApp } from '../../../test/support/test-app.ts';
import { SYSTEM_CONTEXT } from '../../platform/http/request-context.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

const makeStudent = () => makeStudentWith(t.services);
const makeCourse = (overrides: { semester?: string } = {}) => makeCourseWith(t.services, overrides);

function enroll(payload: Record<string, unknown>, as: 'admin' | 'teacher' | 'viewer' = 'admin') {
  return t.request({ method: 'POST', url: '/api/v1/enrollments', payload, as });
}

/** The fields a problem+json answer names. */
function problemFields(response: LightMyRequestResponse): string[] {
  expect(response.headers['content-type']).toContain('application/problem+json');
  return (response.json().errors ?? []).map((issue: { field: string }) => issue.field);
}

describe('enrollments API', () => {
  it('creates, reads, updates, deletes and restores an enrollment', async () => {
    const student = await makeStudent();
    const course = await makeCourse();
    const created = await enroll({
      student_id: student.id,
      course_id: course.id,
      enrollment_date: '2025-09-15',
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      student_id: student.id,
      course_id: course.id,
      enrollment_date: '2025-09-15',
      status: 'active',
      deleted_at: null,
    });

    const fetched = await t.request({
      method: 'GET',
      url: `/api/v1/enrollments/${body.id}`,
      as: 'viewer',
    });
    expect(fetched.json()).toEqual(body);

    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/enrollments/${body.id}`,
      payload: { status: 'completed' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().status).toBe('completed');

    const deleted = await t.request({ method: 'DELETE', url: `/api/v1/enrollments/${body.id}` });
    expect(deleted.statusCode).toBe(204);
    const gone = await t.request({ method: 'GET', url: `/api/v1/enrollments/${body.id}` });
    expect(gone.statusCode).toBe(404);
    const withDeleted = await t.request({
      method: 'GET',
      url: `/api/v1/enrollments/${body.id}?include_deleted=true`,
    });
    expect(withDeleted.json().deleted_at).not.toBeNull();

    const restored = await t.request({
      method: 'POST',
      url: `/api/v1/enrollments/${body.id}/restore`,
    });
    expect(restored.statusCode).toBe(200);
    expect(restored.json().deleted_at).toBeNull();
  });

  it.each([
    ['an unknown status', { status: 'paused' }, 'body.status'],
    ['a student id of 0', { student_id: 0 }, 'body.student_id'],
    ['a course id that is text', { course_id: 'CS-1' }, 'body.course_id'],
    ['a date that does not exist', { enrollment_date: '2025-02-30' }, 'body.enrollment_date'],
  ])('refuses %s with a 400 naming the field', async (_name, overrides, field) => {
    const student = await makeStudent();
    const course = await makeCourse();
    const response = await enroll({ student_id: student.id, course_id: course.id, ...overrides });
    expect(response.statusCode).toBe(400);
    expect(problemFields(response)).toContain(field);
  });

  it('answers 422 naming each reference that does not exist or is deleted', async () => {
    const student = await makeStudent();
    const course = await makeCourse();

    const noStudent = await enroll({ student_id: 999_999, course_id: course.id });
    expect(noStudent.statusCode).toBe(422);
    expect(noStudent.json().errors).toEqual([
      { field: 'body.student_id', message: 'Student 999999 does not exist' },
    ]);

    const neither = await enroll({ student_id: 999_999, course_id: 999_998 });
    expect(neither.statusCode).toBe(422);
    expect(problemFields(neither)).toEqual(['body.student_id', 'body.course_id']);

    await t.services.courses.remove(course.id, SYSTEM_CONTEXT);
    const deletedCourse = await enroll({ student_id: student.id, course_id: course.id });
    expect(deletedCourse.statusCode).toBe(422);
    expect(problemFields(deletedCourse)).toEqual(['body.course_id']);

    const other = await makeCourse();
    const created = await enroll({ student_id: student.id, course_id: other.id });
    expect(created.statusCode).toBe(201);
    const moved = await t.request({
      method: 'PATCH',
      url: `/api/v1/enrollments/${created.json().id}`,
      payload: { course_id: course.id },
    });
    expect(moved.statusCode).toBe(422);
    expect(problemFields(moved)).toEqual(['body.course_id']);
  });

  it('answers 409 for a second enrollment of the same student in the same course', async () => {
    const student = await makeStudent();
    const course = await makeCourse();
    expect((await enroll({ student_id: student.id, course_id: course.id })).statusCode).toBe(201);
    const again = await enroll({ student_id: student.id, course_id: course.id, status: 'dropped' });
    expect(again.statusCode).toBe(409);
    expect(problemFields(again)).toEqual(['body.student_id', 'body.course_id']);
  });

  it('answers 404 for unknown ids', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/enrollments/999999'],
      ['PATCH', '/api/v1/enrollments/999999'],
      ['DELETE', '/api/v1/enrollments/999999'],
      ['POST', '/api/v1/enrollments/999999/restore'],
    ] as const) {
      const response = await t.request({
        method,
        url,
        ...(method === 'PATCH' ? { payload: { status: 'dropped' } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
  });

  it('filters by student, course and status, and lists under a student or a course', async () => {
    const [anna, bob] = [await makeStudent(), await makeStudent()];
    const [algebra, biology] = [await makeCourse(), await makeCourse()];
    await enroll({ student_id: anna.id, course_id: algebra.id });
    await enroll({ student_id: anna.id, course_id: biology.id, status: 'dropped' });
    await enroll({ student_id: bob.id, course_id: algebra.id });

    const annas = await t.request({
      method: 'GET',
      url: `/api/v1/enrollments?student_id=${anna.id}`,
    });
    expect(annas.json().total).toBe(2);
    const dropped = await t.request({
      method: 'GET',
      url: `/api/v1/enrollments?student_id=${anna.id}&status=dropped`,
    });
    expect(dropped.json().items.map((e: { course_id: number }) => e.course_id)).toEqual([
      biology.id,
    ]);

    const nestedStudent = await t.request({
      method: 'GET',
      url: `/api/v1/students/${anna.id}/enrollments?status=active`,
      as: 'viewer',
    });
    expect(nestedStudent.statusCode).toBe(200);
    expect(nestedStudent.json().items.map((e: { course_id: number }) => e.course_id)).toEqual([
      algebra.id,
    ]);
    const nestedCourse = await t.request({
      method: 'GET',
      url: `/api/v1/courses/${algebra.id}/enrollments`,
    });
    expect(
      nestedCourse
        .json()
        .items.map((e: { student_id: number }) => e.student_id)
        .sort(),
    ).toEqual([anna.id, bob.id].sort());

    const badStatus = await t.request({ method: 'GET', url: '/api/v1/enrollments?status=x' });
    expect(badStatus.statusCode).toBe(400);
    expect(problemFields(badStatus)).toEqual(['query.status']);
  });

  it('answers 404 for the list of an unknown or deleted parent', async () => {
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/students/999999/enrollments' })).statusCode,
    ).toBe(404);
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/courses/999999/enrollments' })).statusCode,
    ).toBe(404);
    const student = await makeStudent();
    await t.services.students.remove(student.id, SYSTEM_CONTEXT);
    const deleted = await t.request({
      method: 'GET',
      url: `/api/v1/students/${student.id}/enrollments`,
    });
    expect(deleted.statusCode).toBe(404);
  });

  it('lets a teacher enroll students while a viewer gets 403', async () => {
    const student = await makeStudent();
    const course = await makeCourse();
    const byViewer = await enroll({ student_id: student.id, course_id: course.id }, 'viewer');
    expect(byViewer.statusCode).toBe(403);
    const byTeacher = await enroll({ student_id: student.id, course_id: course.id }, 'teacher');
    expect(byTeacher.statusCode).toBe(201);
  });
});
