-- womgr's group roles, created only when an administrator asks.

CREATE FUNCTION @extschema@.create_roles() RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['womgr_admin', 'womgr_manager', 'womgr_dispatcher', 'womgr_technician',
                                  'womgr_accountant', 'womgr_auditor', 'womgr_customer', 'womgr_bi'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', v_role);
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'permission denied to create role "%"', v_role
                    USING ERRCODE = 'insufficient_privilege',
                          DETAIL = 'Creating womgr''s group roles needs the CREATEROLE privilege.',
                          HINT = 'Run womgr.create_roles() as a superuser or a role with CREATEROLE.';
            END;
            RETURN NEXT v_role;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.create_roles() IS
    'Creates the NOLOGIN group roles womgr_admin, womgr_manager, womgr_dispatcher, womgr_technician, womgr_accountant, womgr_auditor, womgr_customer and womgr_bi that do not exist yet, and returns the names it created. Grant them to login roles; workflow transitions and approvals check membership.';
