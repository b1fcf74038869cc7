-- womgr install script, assembled by the Makefile from sql/parts/*.sql.
-- Edit the parts, not the assembled file.
\echo Use "CREATE EXTENSION womgr CASCADE" to load this file. \quit

-- Nothing here is granted to PUBLIC; womgr.create_roles() (a later release)
-- and the DBA grant what each role needs.
-- CREATE EXTENSION creates the womgr schema (womgr.control: schema = womgr).
-- PostgreSQL does not let a schema that holds an extension be a member of
-- it, so DROP EXTENSION removes every object but leaves the empty schema.
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;

CREATE FUNCTION @extschema@.version() RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_version';
COMMENT ON FUNCTION @extschema@.version() IS
    'Version of the loaded womgr C library.';

-- Sessions keep some tables compiled in C (calendars, lists of qualified
-- technicians); a statement trigger on each tells every session when it changes.
CREATE FUNCTION @extschema@._relcache_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'womgr_relcache_changed';
COMMENT ON FUNCTION @extschema@._relcache_changed() IS
    'Internal trigger: sends a relcache invalidation of its table, so every session drops what it keeps compiled from it (calendars, lists of qualified technicians).';

CREATE TYPE @extschema@.status_category AS ENUM
    ('new', 'scheduled', 'in_progress', 'on_hold', 'completed', 'closed', 'cancelled');
COMMENT ON TYPE @extschema@.status_category IS
    'Fixed system categories that every workflow status maps to; SLA clocks, KPIs and BI use these, never status names.';
