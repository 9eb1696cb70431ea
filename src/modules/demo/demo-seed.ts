export async function seedDemoSchool(_db: unknown, _options: { students: number }) {
  return {};
}
