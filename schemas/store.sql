-- The invscale project store (SQLite).
--
-- Each section below headed "-- version N" takes a store from version N-1 to
-- version N; a new store runs them all.  PRAGMA user_version holds the version
-- reached.  Sections are append-only: never edit one that has been released,
-- add a new one.

-- version 1
CREATE TABLE examples (
  id            INTEGER PRIMARY KEY,
  -- (an OR chain, not IN: SQLite builds a temporary table for IN on every insert)
  type          TEXT NOT NULL CHECK (type = 'classification' OR type = 'sequence_prob' OR type = 'logodds'
                                     OR type = 'absolute_logodds'),
  prompt        TEXT NOT NULL,
  classes       TEXT,     -- JSON array of strings, or NULL when the example has none yet
  answer_index  INTEGER,  -- NULL while unlabelled
  other_prompt  TEXT,
  completion    TEXT,
  metadata      TEXT,     -- JSON object: every input field that is not a task field
  tag           TEXT,
  source_file   TEXT,
  source_line   INTEGER,
  fhash         INTEGER NOT NULL  -- 64-bit hash of type and task fields, to find duplicates fast
);
CREATE INDEX examples_fhash ON examples (fhash);

-- version 2
-- Each import is recorded once; examples point at it instead of repeating the path.
CREATE TABLE imports (
  id          INTEGER PRIMARY KEY,
  path        TEXT NOT NULL,
  format      TEXT NOT NULL,
  tag         TEXT,
  started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  imported    INTEGER NOT NULL DEFAULT 0,
  duplicates  INTEGER NOT NULL DEFAULT 0,
  invalid     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO imports (path, format, imported)
  SELECT source_file, 'unknown', count(*) FROM examples WHERE source_file IS NOT NULL GROUP BY source_file;
ALTER TABLE examples ADD COLUMN import_id INTEGER REFERENCES imports (id);
UPDATE examples SET import_id = (SELECT id FROM imports WHERE imports.path = examples.source_file);
ALTER TABLE examples DROP COLUMN source_file;
CREATE TABLE meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
