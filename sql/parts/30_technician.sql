-- Technicians, the skill catalogue and each technician's skills.

CREATE TABLE @extschema@.technician (
    tenant_id       bigint NOT NULL,
    technician_id   bigint GENERATED ALWAYS AS IDENTITY,
    employee_code   text CHECK (btrim(employee_code) <> ''),
    name            text NOT NULL CHECK (btrim(name) <> ''),
    phone           text,
    email           text,
    login           text CHECK (btrim(login) <> ''),
    home_branch_id  bigint NOT NULL,
    home_location   geography(Point, 4326),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, technician_id),
    FOREIGN KEY (tenant_id, home_branch_id) REFERENCES @extschema@.branch (tenant_id, branch_id)
);
CREATE UNIQUE INDEX technician_employee_code_key ON @extschema@.technician (tenant_id, employee_code)
    WHERE employee_code IS NOT NULL;
CREATE UNIQUE INDEX technician_login_key ON @extschema@.technician (tenant_id, login)
    WHERE login IS NOT NULL;
CREATE INDEX technician_branch_idx ON @extschema@.technician (tenant_id, home_branch_id);
CREATE INDEX technician_home_location_idx ON @extschema@.technician USING gist (home_location);
COMMENT ON TABLE @extschema@.technician IS 'A field technician (staff or contractor) who does work orders.';
COMMENT ON COLUMN @extschema@.technician.login IS 'The actor name the technician works under (womgr.current_actor()); links restricted work orders to the people assigned.';
COMMENT ON COLUMN @extschema@.technician.home_location IS 'Where the technician starts the day (WGS 84 point).';

CREATE TABLE @extschema@.skill (
    tenant_id      bigint NOT NULL,
    skill_id       bigint GENERATED ALWAYS AS IDENTITY,
    code           text NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, skill_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id) REFERENCES @extschema@.tenant (tenant_id)
);
COMMENT ON TABLE @extschema@.skill IS 'The tenant''s skill catalogue (electrical, plumbing, hvac, solar, ...).';
COMMENT ON COLUMN @extschema@.skill.code IS 'Lower-case code used in specs, e.g. solar.';

CREATE TABLE @extschema@.technician_skill (
    tenant_id       bigint NOT NULL,
    technician_id   bigint NOT NULL,
    skill_id        bigint NOT NULL,
    level           smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
    certified_until date,
    PRIMARY KEY (tenant_id, technician_id, skill_id),
    FOREIGN KEY (tenant_id, technician_id) REFERENCES @extschema@.technician (tenant_id, technician_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, skill_id) REFERENCES @extschema@.skill (tenant_id, skill_id)
);
CREATE INDEX technician_skill_skill_idx ON @extschema@.technician_skill (tenant_id, skill_id, level);
COMMENT ON TABLE @extschema@.technician_skill IS 'A technician''s level (1 trainee .. 5 expert) in a skill, and until when a certification is valid.';
COMMENT ON COLUMN @extschema@.technician_skill.certified_until IS 'Last day the certification is valid; NULL when the skill needs none.';
