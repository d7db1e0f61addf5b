-- The event log. Every fact of zhaoshang is one row here; everything else is
-- rebuilt from it, so this table is what a backup must keep.
--
-- There is deliberately no Down migration: a migration never destroys
-- recorded events.

-- +goose Up
CREATE TABLE zhaoshang.events (
    -- Global order is (tx_id, global_position). global_position orders the
    -- events of one transaction (and so of one append); tx_id, the xid8 of
    -- the inserting transaction, orders transactions so that a reader
    -- reading only below pg_snapshot_xmin never skips a late commit.
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid        NOT NULL,
    stream          text        NOT NULL,
    version         bigint      NOT NULL CHECK (version >= 1),
    type            text        NOT NULL CHECK (type <> ''),
    -- bytea, not jsonb (which rewrites the document) nor json (which is
    -- subject to encoding conversion): the hash covers these exact bytes.
    data            bytea       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    actor_subject   text        NOT NULL,
    actor_role      text        NOT NULL,
    actor_unit      text        NOT NULL,
    command_id      text        NOT NULL,
    correlation_id  text        NOT NULL,
    causation_id    text        NOT NULL,
    prev_hash       text        NOT NULL,
    hash            text        NOT NULL,
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream, version)
);

CREATE INDEX events_tx_position_idx ON zhaoshang.events (tx_id, global_position);

COMMENT ON TABLE zhaoshang.events IS
    'zhaoshang event log: append-only; read in (tx_id, global_position) order below pg_snapshot_xmin; see docs/eventstore-postgres.md';
COMMENT ON COLUMN zhaoshang.events.data IS
    'the event''s JSON, byte-exact as hashed; convert_from(data, ''UTF8'')::jsonb to query it';
