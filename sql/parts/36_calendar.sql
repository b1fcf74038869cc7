-- Business calendars: a time zone, weekly working hours and holidays.
-- Every edit makes a new immutable version, so a deadline computed on a
-- version can always be recomputed; src/calendar.c compiles a version into
-- UTC working intervals once per backend.

CREATE TABLE @extschema@.calendar (
    tenant_id        bigint NOT NULL,
    calendar_id      bigint GENERATED ALWAYS AS IDENTITY,
    name             text NOT NULL CHECK (btrim(name) <> ''),
    current_version  integer NOT NULL DEFAULT 1 CHECK (current_version > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, calendar_id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id)
);
COMMENT ON TABLE @extschema@.calendar IS
    'A business calendar of a tenant (working hours and holidays in a time zone); its rules live in immutable versions.';

CREATE TABLE @extschema@.calendar_version (
    tenant_id        bigint NOT NULL,
    calendar_id      bigint NOT NULL,
    version          integer NOT NULL CHECK (version > 0),
    timezone         text NOT NULL,
    hours            jsonb NOT NULL CHECK (jsonb_typeof(hours) = 'object'),
    holidays         date[] NOT NULL DEFAULT '{}',
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, calendar_id, version),
    FOREIGN KEY (tenant_id, calendar_id) REFERENCES @extschema@.calendar (tenant_id, calendar_id)
);
COMMENT ON TABLE @extschema@.calendar_version IS
    'One version of a calendar: time zone, weekly hours {"mon": [["08:00", "17:00"]], ...} and holiday dates. Never changed once written.';
COMMENT ON COLUMN @extschema@.calendar_version.hours IS
    'Working hours per weekday (mon..sun), each a list of [start, end) local wall-clock times "HH:MM"; "24:00" ends a day.';
