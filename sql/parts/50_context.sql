-- Who is acting: transaction-local context read by every engine.

CREATE FUNCTION @extschema@._tenant_exists(p_tenant_id bigint) RETURNS boolean
    LANGUAGE sql STABLE STRICT SECURITY DEFINER
    AS $$ SELECT EXISTS (SELECT 1 FROM @extschema@.tenant WHERE tenant_id = p_tenant_id) $$;
COMMENT ON FUNCTION @extschema@._tenant_exists(bigint) IS
    'Internal (SECURITY DEFINER, search_path pinned): whether a tenant id exists, seen past row-level security, so set_context can check it before the context exists.';

CREATE FUNCTION @extschema@.set_context(p_tenant_id bigint, p_actor text, p_client_ip inet DEFAULT NULL,
                                       p_role text DEFAULT NULL)
    RETURNS void LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'womgr_set_context';
COMMENT ON FUNCTION @extschema@.set_context(bigint, text, inet, text) IS
    'Sets, for the current transaction, the tenant, the application user (actor), the client address and the womgr role (admin, manager, dispatcher, technician, ...) that womgr records and checks. NULL actor or address: the database role and the connection''s address; NULL role: every womgr_* role the database user belongs to. The user must belong to womgr_<role>.';

CREATE FUNCTION @extschema@.current_roles() RETURNS text[]
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_current_roles';
COMMENT ON FUNCTION @extschema@.current_roles() IS
    'The womgr roles the transaction acts in (the one chosen with set_context, else every womgr_* role the user belongs to; all of them for a superuser). Workflow transitions check these.';

CREATE FUNCTION @extschema@.current_actor() RETURNS text
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_current_actor';
COMMENT ON FUNCTION @extschema@.current_actor() IS
    'The actor recorded for changes made now: the one set by womgr.set_context, else the database role.';

CREATE FUNCTION @extschema@.current_tenant_id() RETURNS bigint
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_current_tenant_id';
COMMENT ON FUNCTION @extschema@.current_tenant_id() IS
    'The tenant set by womgr.set_context in this transaction, or NULL.';

CREATE FUNCTION @extschema@.current_client_ip() RETURNS inet
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_current_client_ip';
COMMENT ON FUNCTION @extschema@.current_client_ip() IS
    'The client address recorded for changes made now: the one set by womgr.set_context, else the connection''s (NULL over a Unix socket).';

-- Spec validation helpers shared with the C entry points (internal).
CREATE FUNCTION @extschema@._spec_keys(p_spec jsonb, p_allowed text[], p_what text) RETURNS void
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'womgr_spec_keys';
COMMENT ON FUNCTION @extschema@._spec_keys(jsonb, text[], text) IS
    'Internal: raises unless p_spec is a JSON object whose keys are all in p_allowed.';
CREATE FUNCTION @extschema@._spec_text(p_spec jsonb, p_key text, p_required boolean, p_what text) RETURNS text
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'womgr_spec_text';
COMMENT ON FUNCTION @extschema@._spec_text(jsonb, text, boolean, text) IS
    'Internal: a non-empty JSON string field of a spec, or NULL when absent and optional.';
CREATE FUNCTION @extschema@._spec_bigint(p_spec jsonb, p_key text, p_required boolean, p_what text) RETURNS bigint
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'womgr_spec_bigint';
COMMENT ON FUNCTION @extschema@._spec_bigint(jsonb, text, boolean, text) IS
    'Internal: a whole-number field (JSON number or numeric string) of a spec, or NULL when absent and optional.';
CREATE FUNCTION @extschema@._spec_numeric(p_spec jsonb, p_key text, p_required boolean, p_what text) RETURNS numeric
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'womgr_spec_numeric';
COMMENT ON FUNCTION @extschema@._spec_numeric(jsonb, text, boolean, text) IS
    'Internal: a finite number field of a spec, or NULL when absent and optional.';
CREATE FUNCTION @extschema@._spec_bool(p_spec jsonb, p_key text, p_required boolean, p_what text) RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'womgr_spec_bool';
COMMENT ON FUNCTION @extschema@._spec_bool(jsonb, text, boolean, text) IS
    'Internal: a JSON boolean field of a spec, or NULL when absent and optional.';
