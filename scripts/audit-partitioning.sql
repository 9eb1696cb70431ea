-- Registrar: turn audit_logs into a table partitioned by month (RANGE on "timestamp").
--
-- Opt-in, for high-volume installs on PostgreSQL 13 or later; not a migration. See
-- docs/OPERATIONS.md, "Audit retention and partitioning". Run it once, as the owner of
-- audit_logs (the database user Registrar migrates with), preferably with Registrar stopped:
--
--   psql -X -v ON_ERROR_STOP=1 -f scripts/audit-partitioning.sql "$DATABASE_URL"
--
-- Everything happens in one transaction: it completes, or it changes nothing. While it
-- copies the rows it holds an exclusive lock on audit_logs, so every audited write waits.
--
-- What it does:
--   * renames the old table, creates the partitioned audit_logs with the same columns,
--     defaults and CHECK constraints, and PRIMARY KEY (id, "timestamp") — PostgreSQL
--     requires a partitioned table's primary key to include the partition key; ids stay
--     unique because the chain head's lock hands them out one by one, and the chain check
--     (GET /api/v1/audit/verify) reports any duplicate or gap;
--   * creates one partition per calendar month (UTC) that holds entries, the current month
--     and the next 3, plus audit_logs_default for anything outside them;
--   * copies every row, checks the copy, then recreates the indexes and the append-only
--     triggers (the row trigger is cloned onto every partition; TRUNCATE is refused on the
--     parent and on each partition);
--   * installs audit_logs_create_partition(date) and audit_logs_maintain_partitions(int),
--     which Registrar's daily retention run calls when it finds them: it creates the coming
--     months' partitions (moving any rows waiting in audit_logs_default into them) and drops
--     past months' partitions that retention has emptied.

\set ON_ERROR_STOP on

BEGIN;

SET LOCAL lock_timeout = '30s';
-- Same order as every audited write (chain head first), so this cannot deadlock with one.
LOCK TABLE audit_chain_head IN EXCLUSIVE MODE;
LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE;

DO $$
BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = 'audit_logs'::regclass) = 'p' THEN
    RAISE EXCEPTION 'audit_logs is already partitioned; nothing to do';
  END IF;
END $$;

ALTER TABLE audit_logs RENAME TO audit_logs_unpartitioned;
ALTER TABLE audit_logs_unpartitioned RENAME CONSTRAINT audit_logs_pkey TO audit_logs_unpartitioned_pkey;

-- Index names are unique per schema: remember the old table's indexes and free their names.
CREATE TEMPORARY TABLE audit_partitioning_indexes ON COMMIT DROP AS
  SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  WHERE i.indrelid = 'audit_logs_unpartitioned'::regclass AND NOT i.indisprimary;

DO $$
DECLARE
  index_name text;
BEGIN
  FOR index_name IN SELECT name FROM audit_partitioning_indexes LOOP
    EXECUTE format('DROP INDEX %I', index_name);
  END LOOP;
END $$;

CREATE TABLE audit_logs (
  LIKE audit_logs_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS
) PARTITION BY RANGE ("timestamp");
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id, "timestamp");

-- The partition of one calendar month (UTC), named audit_logs_yYYYYmMM. Returns false when
-- it already exists. Rows of that month waiting in audit_logs_default move into it unchanged.
CREATE OR REPLACE FUNCTION audit_logs_create_partition(for_month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  first_day date := date_trunc('month', for_month::timestamp)::date;
  lower_bound timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
  upper_bound timestamptz := (first_day::timestamp + interval '1 month') AT TIME ZONE 'UTC';
  partition_name text := 'audit_logs_' || to_char(first_day, '"y"YYYY"m"MM');
  waiting boolean := false;
  previous text;
BEGIN
  IF to_regclass(partition_name) IS NOT NULL THEN
    RETURN false;
  END IF;
  IF to_regclass('audit_logs_default') IS NOT NULL THEN
    SELECT EXISTS (
      SELECT 1 FROM audit_logs_default
      WHERE "timestamp" >= lower_bound AND "timestamp" < upper_bound
    ) INTO waiting;
  END IF;
  IF waiting THEN
    EXECUTE format(
      'CREATE TABLE %I (LIKE audit_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
      partition_name);
    EXECUTE format(
      'INSERT INTO %I SELECT * FROM audit_logs_default WHERE "timestamp" >= $1 AND "timestamp" < $2',
      partition_name) USING lower_bound, upper_bound;
    -- A move, not a loss: the rows were copied above. Only this transaction may delete.
    previous := current_setting('registrar.audit_retention', true);
    PERFORM set_config('registrar.audit_retention', 'on', true);
    DELETE FROM audit_logs_default
    WHERE "timestamp" >= lower_bound AND "timestamp" < upper_bound;
    PERFORM set_config('registrar.audit_retention', coalesce(previous, ''), true);
    EXECUTE format(
      'ALTER TABLE audit_logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
      partition_name, lower_bound, upper_bound);
  ELSE
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF audit_logs FOR VALUES FROM (%L) TO (%L)',
      partition_name, lower_bound, upper_bound);
  END IF;
  -- Statement triggers are not cloned onto partitions: refuse TRUNCATE on each one too.
  EXECUTE format(
    'CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON %I '
    'FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only()',
    partition_name);
  RETURN true;
END $$;

-- Upkeep, called by Registrar's daily retention run (or by cron / pg_cron): creates the
-- partitions of this month and the next months_ahead months, and of any month with rows
-- waiting in audit_logs_default; drops the partitions of past months that are empty (the
-- retention routine archived and deleted their entries). Returns {"created": [...],
-- "dropped": [...]}.
CREATE OR REPLACE FUNCTION audit_logs_maintain_partitions(months_ahead integer DEFAULT 3)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
  months date[];
  partitions text[];
  one_month date;
  partition_name text;
  is_empty boolean;
  created text[] := '{}';
  dropped text[] := '{}';
BEGIN
  PERFORM set_config('lock_timeout', '10s', true);
  months := ARRAY(
    SELECT (this_month::timestamp + make_interval(months => n))::date
    FROM generate_series(0, months_ahead) AS n
    UNION
    SELECT date_trunc('month', "timestamp" AT TIME ZONE 'UTC')::date FROM audit_logs_default
    ORDER BY 1);
  FOREACH one_month IN ARRAY months LOOP
    IF audit_logs_create_partition(one_month) THEN
      created := created || ('audit_logs_' || to_char(one_month, '"y"YYYY"m"MM'));
    END IF;
  END LOOP;

  partitions := ARRAY(
    SELECT c.relname::text
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'audit_logs'::regclass
      AND c.relname ~ '^audit_logs_y[0-9]{4}m[0-9]{2}$'
      AND make_date(substring(c.relname FROM 13 FOR 4)::int,
                    substring(c.relname FROM 18 FOR 2)::int, 1) < this_month
    ORDER BY 1);
  FOREACH partition_name IN ARRAY partitions LOOP
    EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I)', partition_name) INTO is_empty;
    IF is_empty THEN
      EXECUTE format('DROP TABLE %I', partition_name);
      dropped := dropped || partition_name;
    END IF;
  END LOOP;
  RETURN jsonb_build_object('created', to_jsonb(created), 'dropped', to_jsonb(dropped));
END $$;

-- Partitions for every month that has entries, this month and the next 3, and a default.
DO $$
DECLARE
  months date[];
  one_month date;
  this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
BEGIN
  months := ARRAY(
    SELECT date_trunc('month', "timestamp" AT TIME ZONE 'UTC')::date
    FROM audit_logs_unpartitioned
    UNION
    SELECT (this_month::timestamp + make_interval(months => n))::date
    FROM generate_series(0, 3) AS n
    ORDER BY 1);
  FOREACH one_month IN ARRAY months LOOP
    PERFORM audit_logs_create_partition(one_month);
  END LOOP;
END $$;

CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT;
CREATE TRIGGER audit_logs_no_truncate
BEFORE TRUNCATE ON audit_logs_default
FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();

-- The rows, then a check that every one arrived.
INSERT INTO audit_logs SELECT * FROM audit_logs_unpartitioned;

DO $$
DECLARE
  before record;
  after record;
BEGIN
  SELECT count(*) AS n, coalesce(sum(('x' || substr(hash, 1, 15))::bit(60)::bigint), 0) AS digest
  INTO before FROM audit_logs_unpartitioned;
  SELECT count(*) AS n, coalesce(sum(('x' || substr(hash, 1, 15))::bit(60)::bigint), 0) AS digest
  INTO after FROM audit_logs;
  IF before.n <> after.n OR before.digest <> after.digest THEN
    RAISE EXCEPTION 'the copy of audit_logs differs (% rows before, % after); nothing was changed',
      before.n, after.n;
  END IF;
END $$;

-- The same indexes as before, now partitioned (each partition gets its own).
DO $$
DECLARE
  index_definition text;
BEGIN
  FOR index_definition IN SELECT definition FROM audit_partitioning_indexes LOOP
    EXECUTE regexp_replace(index_definition, ' ON (ONLY )?(\S+\.)?audit_logs_unpartitioned ',
                           ' ON \2audit_logs ');
  END LOOP;
END $$;

-- Append-only, as in drizzle/0003_audit_append_only.sql; the row trigger is cloned onto
-- every partition, present and future.
CREATE TRIGGER audit_logs_append_only
BEFORE UPDATE OR DELETE ON audit_logs
FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate
BEFORE TRUNCATE ON audit_logs
FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();

DROP TABLE audit_logs_unpartitioned;
ANALYZE audit_logs;

COMMIT;
