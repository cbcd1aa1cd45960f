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

-- version 3
-- Crowd annotation: annotators, batches of items with assignments, judgments,
-- adjudications and the final labels that export uses as answer_index.
CREATE TABLE annotators (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  external_id  TEXT UNIQUE,
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE batches (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  per_item    INTEGER NOT NULL CHECK (per_item >= 1),
  seed        INTEGER NOT NULL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE batch_items (
  batch_id    INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  example_id  INTEGER NOT NULL REFERENCES examples (id),
  position    INTEGER NOT NULL,
  gold        INTEGER NOT NULL DEFAULT 0,  -- 1: a gold item with a known answer
  PRIMARY KEY (batch_id, example_id)
);
CREATE TABLE assignments (
  batch_id      INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  example_id    INTEGER NOT NULL REFERENCES examples (id),
  slot          INTEGER NOT NULL,
  annotator_id  INTEGER REFERENCES annotators (id),  -- NULL: an open slot
  PRIMARY KEY (batch_id, example_id, slot),
  UNIQUE (batch_id, example_id, annotator_id)
);
CREATE TABLE judgments (
  id            INTEGER PRIMARY KEY,
  example_id    INTEGER NOT NULL REFERENCES examples (id),
  annotator_id  INTEGER NOT NULL REFERENCES annotators (id),
  batch_id      INTEGER REFERENCES batches (id),
  label         TEXT NOT NULL,
  seconds       REAL,
  source        TEXT NOT NULL,   -- file and record it was imported from
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  UNIQUE (example_id, annotator_id, label, source)
);
CREATE INDEX judgments_example ON judgments (example_id);
CREATE INDEX batch_items_example ON batch_items (example_id);
CREATE TABLE final_labels (
  example_id  INTEGER PRIMARY KEY REFERENCES examples (id),
  label       TEXT NOT NULL,
  confidence  REAL,
  method      TEXT NOT NULL,    -- majority, dawid-skene, gold or adjudication
  updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE adjudications (
  id            INTEGER PRIMARY KEY,
  example_id    INTEGER NOT NULL REFERENCES examples (id),
  label         TEXT NOT NULL,
  annotator_id  INTEGER NOT NULL REFERENCES annotators (id),
  note          TEXT,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX adjudications_example ON adjudications (example_id);

-- version 4
-- Duplicate lookup moves from an index on examples.fhash to a table of its
-- own, filled in hash order when an import commits: random inserts into an
-- index cost more than the rows themselves on large imports.
CREATE TABLE example_hashes (
  fhash       INTEGER NOT NULL,
  example_id  INTEGER NOT NULL,
  PRIMARY KEY (fhash, example_id)
) WITHOUT ROWID;
INSERT INTO example_hashes (fhash, example_id) SELECT fhash, id FROM examples;
DROP INDEX examples_fhash;
CREATE TRIGGER examples_delete_hash AFTER DELETE ON examples BEGIN
  DELETE FROM example_hashes WHERE fhash = OLD.fhash AND example_id = OLD.id;
END;

-- version 5
-- A judgment's identity on its platform (issue 11): the Label Studio
-- annotation id, the MTurk assignment and item, the Toloka assignment and
-- item; for generic CSV/JSONL the item, annotator, label and time.  id_space
-- names the platform ('labelstudio', 'mturk', 'toloka', 'generic'), so a
-- re-import under any path, a copy or a later re-export finds the same row.
-- updated_at: the platform's time of the last change, when it gives one.  An
-- updated judgment replaces the row; what it said before goes to
-- judgment_history.  Rows stored before version 5 have no identity (NULL).
ALTER TABLE judgments ADD COLUMN id_space TEXT;
ALTER TABLE judgments ADD COLUMN platform_id TEXT;
ALTER TABLE judgments ADD COLUMN updated_at TEXT;
-- Label Studio judgments stored before name their annotation in the source
-- ("FILE: task N annotation id ID"): the first row of each annotation takes
-- it as its identity (earlier re-imports stored copies; they keep none).
UPDATE judgments SET id_space = 'labelstudio',
    platform_id = substr(source, instr(source, ' annotation id ') + 15)
  WHERE instr(source, ' annotation id ') > 0
    AND id = (SELECT min(j2.id) FROM judgments j2 WHERE instr(j2.source, ' annotation id ') > 0
              AND substr(j2.source, instr(j2.source, ' annotation id ') + 15)
                  = substr(judgments.source, instr(judgments.source, ' annotation id ') + 15));
CREATE UNIQUE INDEX judgments_identity ON judgments (id_space, platform_id) WHERE platform_id IS NOT NULL;
CREATE TABLE judgment_history (
  id            INTEGER PRIMARY KEY,
  judgment_id   INTEGER NOT NULL REFERENCES judgments (id) ON DELETE CASCADE,
  label         TEXT NOT NULL,
  seconds       REAL,
  source        TEXT NOT NULL,
  updated_at    TEXT,
  replaced_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX judgment_history_judgment ON judgment_history (judgment_id);

-- version 6
-- The annotation server (issue 14).  links: one random token per annotator
-- per batch and one for the lead, stored only as its SHA-256 (hex); a
-- revoked link keeps its row.  leases: an item handed out to an annotator
-- until expires_at (Unix seconds); an expired lease is ignored and replaced.
-- submits: the client-made id of every acknowledged submit, so that a retried
-- submit is stored once.  item_marks: skips and flags (with a note).
-- guidelines: each distinct text once, numbered by id; a judgment made in the
-- browser names the version shown.  class_orders: the order of an item's
-- classes shown to an annotator (--shuffle-classes).  batch_items.judged
-- counts an item's judgments in its batch (kept by triggers), so that the
-- next item is found through an index.
CREATE TABLE links (
  id            INTEGER PRIMARY KEY,
  batch_id      INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  annotator_id  INTEGER REFERENCES annotators (id),  -- NULL: the lead's link
  token_hash    TEXT NOT NULL UNIQUE,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  revoked_at    TEXT
);
CREATE UNIQUE INDEX links_live ON links (batch_id, coalesce(annotator_id, 0)) WHERE revoked_at IS NULL;
CREATE TABLE leases (
  batch_id      INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  example_id    INTEGER NOT NULL REFERENCES examples (id),
  annotator_id  INTEGER NOT NULL REFERENCES annotators (id),
  leased_at     REAL NOT NULL,
  expires_at    REAL NOT NULL,
  PRIMARY KEY (batch_id, example_id, annotator_id)
) WITHOUT ROWID;
CREATE INDEX leases_annotator ON leases (batch_id, annotator_id, expires_at);
CREATE TABLE submits (
  batch_id      INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  annotator_id  INTEGER NOT NULL REFERENCES annotators (id),
  client_id     TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind = 'judgment' OR kind = 'skip' OR kind = 'flag'),
  example_id    INTEGER NOT NULL,
  status        TEXT NOT NULL,   -- stored, revised, kept (the same label again)
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (batch_id, annotator_id, client_id)
) WITHOUT ROWID;
CREATE TABLE item_marks (
  id            INTEGER PRIMARY KEY,
  batch_id      INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  example_id    INTEGER NOT NULL REFERENCES examples (id),
  annotator_id  INTEGER NOT NULL REFERENCES annotators (id),
  kind          TEXT NOT NULL CHECK (kind = 'skip' OR kind = 'flag'),
  note          TEXT,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX item_marks_item ON item_marks (batch_id, example_id, annotator_id);
CREATE TABLE guidelines (
  id          INTEGER PRIMARY KEY,   -- the version
  text        TEXT NOT NULL,
  sha256      TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
ALTER TABLE judgments ADD COLUMN guideline_id INTEGER;  -- guidelines.id (no foreign key: a column with one cannot be dropped)
CREATE TABLE class_orders (
  batch_id      INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  annotator_id  INTEGER NOT NULL REFERENCES annotators (id),
  example_id    INTEGER NOT NULL REFERENCES examples (id),
  classes       TEXT NOT NULL,   -- JSON array: the classes in the order shown
  PRIMARY KEY (batch_id, annotator_id, example_id)
) WITHOUT ROWID;
CREATE INDEX judgments_batch_annotator ON judgments (batch_id, annotator_id, example_id);
ALTER TABLE batch_items ADD COLUMN judged INTEGER NOT NULL DEFAULT 0;
UPDATE batch_items SET judged = (SELECT count(*) FROM judgments j
  WHERE j.batch_id = batch_items.batch_id AND j.example_id = batch_items.example_id);
CREATE INDEX batch_items_work ON batch_items (batch_id, judged DESC, position);
CREATE TRIGGER judgments_judged_insert AFTER INSERT ON judgments WHEN NEW.batch_id IS NOT NULL BEGIN
  UPDATE batch_items SET judged = judged + 1 WHERE batch_id = NEW.batch_id AND example_id = NEW.example_id;
END;
CREATE TRIGGER judgments_judged_delete AFTER DELETE ON judgments WHEN OLD.batch_id IS NOT NULL BEGIN
  UPDATE batch_items SET judged = judged - 1 WHERE batch_id = OLD.batch_id AND example_id = OLD.example_id;
END;
CREATE TRIGGER judgments_judged_move AFTER UPDATE OF batch_id, example_id ON judgments BEGIN
  UPDATE batch_items SET judged = judged - 1 WHERE batch_id = OLD.batch_id AND example_id = OLD.example_id;
  UPDATE batch_items SET judged = judged + 1 WHERE batch_id = NEW.batch_id AND example_id = NEW.example_id;
END;
