-- Trigram indexes back the text search on names, e-mails and codes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
