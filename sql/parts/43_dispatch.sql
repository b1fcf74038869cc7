-- Dispatch: shifts, time off, where technicians are (GPS pings), territories,
-- preferred technicians, the dispatch policy (weights and travel model), and
-- the rule that one technician's active bookings never overlap.

ALTER TABLE @extschema@.technician
    ADD COLUMN calendar_id      bigint,
    ADD COLUMN last_location    geography(Point, 4326),
    ADD COLUMN last_location_at timestamptz,
    ADD COLUMN rating           numeric(3, 2) CHECK (rating BETWEEN 1.0 AND 5.0),
    ADD FOREIGN KEY (tenant_id, calendar_id) REFERENCES @extschema@.calendar (tenant_id, calendar_id),
    ADD CHECK ((last_location IS NULL) = (last_location_at IS NULL));
COMMENT ON COLUMN @extschema@.technician.calendar_id IS
    'The technician''s shift calendar (weekly hours and days off); NULL: the home branch''s calendar; neither: no shift limits.';
COMMENT ON COLUMN @extschema@.technician.last_location IS
    'Latest GPS position (kept by womgr.record_location()); used instead of home_location while it is fresh (dispatch_policy.ping_fresh).';
COMMENT ON COLUMN @extschema@.technician.rating IS 'Average customer rating, 1 to 5; dispatch scoring favours higher ratings.';
-- The position dispatch searches from, with the tenant first so one tenant's
-- KNN scan never walks another tenant's technicians (btree_gist).
CREATE INDEX technician_position_idx ON @extschema@.technician
    USING gist (tenant_id, (coalesce(last_location, home_location))) WHERE active;

CREATE TABLE @extschema@.technician_time_off (
    tenant_id      bigint NOT NULL,
    time_off_id    bigint GENERATED ALWAYS AS IDENTITY,
    technician_id  bigint NOT NULL,
    period         tstzrange NOT NULL CHECK (NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)),
    reason         text NOT NULL CHECK (btrim(reason) <> ''),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, time_off_id),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id) ON DELETE CASCADE
);
CREATE INDEX technician_time_off_period_idx ON @extschema@.technician_time_off USING gist (tenant_id, technician_id, period);
COMMENT ON TABLE @extschema@.technician_time_off IS 'Leave, training, sick days: times a technician cannot be dispatched.';

CREATE TABLE @extschema@.technician_location (
    tenant_id      bigint NOT NULL,
    technician_id  bigint NOT NULL,
    recorded_at    timestamptz NOT NULL,
    location       geography(Point, 4326) NOT NULL,
    accuracy_m     real CHECK (accuracy_m >= 0),
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, technician_id, recorded_at),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id) ON DELETE CASCADE
);
CREATE INDEX technician_location_recorded_idx ON @extschema@.technician_location (tenant_id, recorded_at);
COMMENT ON TABLE @extschema@.technician_location IS
    'GPS pings from technicians'' phones, kept for dispatch_policy.ping_retention (womgr.purge_technician_locations()).';

CREATE TABLE @extschema@.territory (
    tenant_id      bigint NOT NULL,
    territory_id   bigint GENERATED ALWAYS AS IDENTITY,
    code           text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    area           geography(MultiPolygon, 4326) NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, territory_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id)
);
CREATE INDEX territory_area_idx ON @extschema@.territory USING gist (tenant_id, area);
COMMENT ON TABLE @extschema@.territory IS 'An area (WGS 84 polygons) that technicians may serve beyond their home branch.';

CREATE TABLE @extschema@.technician_territory (
    tenant_id      bigint NOT NULL,
    technician_id  bigint NOT NULL,
    territory_id   bigint NOT NULL,
    PRIMARY KEY (tenant_id, technician_id, territory_id),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, territory_id) REFERENCES @extschema@.territory (tenant_id, territory_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.technician_territory IS 'Territories a technician serves besides the home branch.';

CREATE TABLE @extschema@.preferred_technician (
    tenant_id      bigint NOT NULL,
    customer_id    bigint NOT NULL,
    technician_id  bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, technician_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES @extschema@.customer (tenant_id, customer_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.preferred_technician IS 'Technicians a customer asked for; dispatch scoring favours them.';

CREATE TABLE @extschema@.dispatch_policy (
    tenant_id          bigint NOT NULL,
    dispatch_policy_id bigint GENERATED ALWAYS AS IDENTITY,
    branch_id          bigint,
    w_travel           float8 NOT NULL DEFAULT 0.40 CHECK (w_travel >= 0),
    w_skill_fit        float8 NOT NULL DEFAULT 0.10 CHECK (w_skill_fit >= 0),
    w_workload         float8 NOT NULL DEFAULT 0.20 CHECK (w_workload >= 0),
    w_sla              float8 NOT NULL DEFAULT 0.15 CHECK (w_sla >= 0),
    w_preferred        float8 NOT NULL DEFAULT 0.10 CHECK (w_preferred >= 0),
    w_rating           float8 NOT NULL DEFAULT 0.05 CHECK (w_rating >= 0),
    detour_factor      float8 NOT NULL DEFAULT 1.35 CHECK (detour_factor BETWEEN 1 AND 5),
    speed_kmh          float8 NOT NULL DEFAULT 30 CHECK (speed_kmh > 0 AND speed_kmh <= 200),
    max_travel_minutes float8 NOT NULL DEFAULT 120 CHECK (max_travel_minutes > 0),
    candidate_pool     integer NOT NULL DEFAULT 10 CHECK (candidate_pool BETWEEN 1 AND 1000),
    cross_branch       boolean NOT NULL DEFAULT false,
    horizon            interval NOT NULL DEFAULT '1 day' CHECK (horizon > '0' AND horizon <= '31 days'),
    ping_fresh         interval NOT NULL DEFAULT '30 minutes' CHECK (ping_fresh > '0'),
    ping_retention     interval NOT NULL DEFAULT '30 days' CHECK (ping_retention > '0'),
    travel_function    regprocedure,
    seeded             boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, dispatch_policy_id),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id),
    FOREIGN KEY (tenant_id, branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id),
    CHECK (w_travel + w_skill_fit + w_workload + w_sla + w_preferred + w_rating > 0)
);
CREATE UNIQUE INDEX dispatch_policy_tenant_key ON @extschema@.dispatch_policy (tenant_id) WHERE branch_id IS NULL;
CREATE UNIQUE INDEX dispatch_policy_branch_key ON @extschema@.dispatch_policy (tenant_id, branch_id) WHERE branch_id IS NOT NULL;
COMMENT ON TABLE @extschema@.dispatch_policy IS
    'How dispatch scores and travels: one row per tenant (branch_id NULL) and optional rows per branch that override it. Set it with womgr.set_dispatch_policy().';
COMMENT ON COLUMN @extschema@.dispatch_policy.w_travel IS 'Weight of short travel (1 at the site, 0 at max_travel_minutes or more).';
COMMENT ON COLUMN @extschema@.dispatch_policy.w_skill_fit IS 'Weight of skill fit (1 when levels match the minimum exactly; over-qualification costs).';
COMMENT ON COLUMN @extschema@.dispatch_policy.w_workload IS 'Weight of a light day (1 with nothing booked in the window''s shift time).';
COMMENT ON COLUMN @extschema@.dispatch_policy.w_sla IS 'Weight of SLA slack (1 when done at once, 0 when finishing at or after the SLA due time).';
COMMENT ON COLUMN @extschema@.dispatch_policy.w_preferred IS 'Weight of a preferred technician or one who worked for the customer before.';
COMMENT ON COLUMN @extschema@.dispatch_policy.w_rating IS 'Weight of the technician''s rating (1 at 5 stars, 0 at 1 star, 0.5 unrated).';
COMMENT ON COLUMN @extschema@.dispatch_policy.detour_factor IS 'Road distance over straight-line distance (1.35 is typical for Nairobi).';
COMMENT ON COLUMN @extschema@.dispatch_policy.speed_kmh IS 'Average road speed, door to door.';
COMMENT ON COLUMN @extschema@.dispatch_policy.max_travel_minutes IS 'Longest travel dispatch considers; farther technicians are not candidates.';
COMMENT ON COLUMN @extschema@.dispatch_policy.candidate_pool IS 'How many qualified, free technicians nearest to the site are scored (at least the requested limit).';
COMMENT ON COLUMN @extschema@.dispatch_policy.cross_branch IS 'Whether technicians of other branches are candidates.';
COMMENT ON COLUMN @extschema@.dispatch_policy.horizon IS 'The window searched when neither the caller nor the work order gives one: from now for this long.';
COMMENT ON COLUMN @extschema@.dispatch_policy.ping_fresh IS 'How long a GPS ping wins over the home base.';
COMMENT ON COLUMN @extschema@.dispatch_policy.ping_retention IS 'How long GPS pings are kept.';
COMMENT ON COLUMN @extschema@.dispatch_policy.travel_function IS
    'Optional hook: a function (from geography, to geography) RETURNS float8 giving road travel minutes (e.g. over pgRouting); used instead of the straight-line model when set.';

-- Bookings: the time a technician is busy for a job is the booked time plus
-- the travel to get there.  No two active bookings of a technician overlap.
ALTER TABLE @extschema@.assignment
    ADD COLUMN travel_s integer NOT NULL DEFAULT 0 CHECK (travel_s BETWEEN 0 AND 86400);
-- everyone who worked on a work order (the customer's previous technicians)
CREATE INDEX assignment_work_order_idx ON @extschema@.assignment (tenant_id, work_order_id);
COMMENT ON COLUMN @extschema@.assignment.travel_s IS 'Seconds of travel to the job before the booked start; busy time too.';

CREATE FUNCTION @extschema@._busy(p_booked tstzrange, p_travel_s integer) RETURNS tstzrange
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_busy';
COMMENT ON FUNCTION @extschema@._busy(tstzrange, integer) IS
    'Internal: the time a booking keeps a technician busy: the booked range, started earlier by the travel.';

ALTER TABLE @extschema@.assignment ADD CONSTRAINT assignment_no_double_booking
    EXCLUDE USING gist (tenant_id WITH =, technician_id WITH =, (@extschema@._busy(booked, travel_s)) WITH &&)
    WHERE (ended_at IS NULL AND booked IS NOT NULL AND technician_id IS NOT NULL);

-- matching keeps per session who is qualified for a kind of job; these tell
-- every session when that may have changed
CREATE TRIGGER technician_skill_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.technician_skill
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._relcache_changed();
CREATE TRIGGER technician_qualification_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF active, home_branch_id
    ON @extschema@.technician
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._relcache_changed();
