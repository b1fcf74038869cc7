-- Business calendars: create, edit (a new version each time) and the
-- business-time arithmetic (C, src/calendar.c).

CREATE FUNCTION @extschema@._calendar_check(p_timezone text, p_hours jsonb) RETURNS void
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_calendar_check';
COMMENT ON FUNCTION @extschema@._calendar_check(text, jsonb) IS
    'Internal: raises unless the time zone is known and the weekly hours are well formed, non-overlapping and not empty (the same parser the arithmetic uses).';

CREATE TRIGGER calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.calendar
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._relcache_changed();
CREATE TRIGGER calendar_version_append_only BEFORE UPDATE OR DELETE ON @extschema@.calendar_version
    FOR EACH ROW EXECUTE FUNCTION @extschema@._append_only();
CREATE TRIGGER calendar_version_no_truncate BEFORE TRUNCATE ON @extschema@.calendar_version
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._append_only();

CREATE FUNCTION @extschema@._check_holidays(p_holidays date[]) RETURNS date[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF p_holidays IS NULL THEN
        RETURN '{}';
    END IF;
    IF array_position(p_holidays, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'holidays must not contain NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('Element %s is NULL.', array_position(p_holidays, NULL)),
                  HINT = 'Pass whole dates such as ''2026-12-25''.';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_holidays) d WHERE NOT isfinite(d)) THEN
        RAISE EXCEPTION 'holidays must be finite dates'
            USING ERRCODE = 'datetime_field_overflow',
                  DETAIL = 'infinity and -infinity are not days.',
                  HINT = 'Pass whole dates such as ''2026-12-25''.';
    END IF;
    RETURN (SELECT coalesce(array_agg(DISTINCT d ORDER BY d), '{}') FROM unnest(p_holidays) d);
END
$$;
COMMENT ON FUNCTION @extschema@._check_holidays(date[]) IS 'Internal: holidays sorted and without duplicates; raises on NULL or infinite dates.';

CREATE FUNCTION @extschema@.create_calendar(p_tenant_id bigint, p_name text, p_timezone text, p_hours jsonb,
                                           p_holidays date[] DEFAULT '{}')
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'calendar name must not be empty'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'Calendars are named, e.g. "Nairobi office hours".',
                  HINT = 'Pass a name.';
    END IF;
    PERFORM @extschema@._calendar_check(p_timezone, p_hours);
    PERFORM @extschema@._require_unique(
        EXISTS (SELECT 1 FROM @extschema@.calendar WHERE tenant_id = p_tenant_id AND name = p_name), 'calendar', 'name', p_name);
    INSERT INTO @extschema@.calendar (tenant_id, name) VALUES (p_tenant_id, p_name) RETURNING calendar_id INTO v_id;
    INSERT INTO @extschema@.calendar_version (tenant_id, calendar_id, version, timezone, hours, holidays, created_by)
    VALUES (p_tenant_id, v_id, 1, p_timezone, p_hours, @extschema@._check_holidays(p_holidays), @extschema@.current_actor());
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_calendar(bigint, text, text, jsonb, date[]) IS
    'Creates a business calendar: an IANA time zone, weekly hours {"mon": [["08:00", "17:00"]], "sat": [["09:00", "13:00"]]} (lists of [start, end) local times; "24:00" ends a day; an overnight shift is two intervals) and holiday dates; returns its id.';

CREATE FUNCTION @extschema@.update_calendar(p_tenant_id bigint, p_calendar_id bigint, p_timezone text DEFAULT NULL,
                                           p_hours jsonb DEFAULT NULL, p_holidays date[] DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    v_cur @extschema@.calendar_version;
    v_version integer;
BEGIN
    PERFORM @extschema@._require_tenant(p_tenant_id);
    SELECT v.* INTO v_cur FROM @extschema@.calendar c JOIN @extschema@.calendar_version v
        ON v.tenant_id = c.tenant_id AND v.calendar_id = c.calendar_id AND v.version = c.current_version
     WHERE c.tenant_id = p_tenant_id AND c.calendar_id = p_calendar_id
       FOR UPDATE OF c;
    PERFORM @extschema@._require_row(FOUND, 'calendar', p_calendar_id, p_tenant_id);
    PERFORM @extschema@._calendar_check(coalesce(p_timezone, v_cur.timezone), coalesce(p_hours, v_cur.hours));
    v_version := v_cur.version + 1;
    INSERT INTO @extschema@.calendar_version (tenant_id, calendar_id, version, timezone, hours, holidays, created_by)
    VALUES (p_tenant_id, p_calendar_id, v_version, coalesce(p_timezone, v_cur.timezone), coalesce(p_hours, v_cur.hours),
            CASE WHEN p_holidays IS NULL THEN v_cur.holidays ELSE @extschema@._check_holidays(p_holidays) END,
            @extschema@.current_actor());
    UPDATE @extschema@.calendar SET current_version = v_version WHERE tenant_id = p_tenant_id AND calendar_id = p_calendar_id;
    RETURN v_version;
END
$$;
COMMENT ON FUNCTION @extschema@.update_calendar(bigint, bigint, text, jsonb, date[]) IS
    'Edits a calendar by writing a new version (arguments left NULL keep their current value); returns the new version number. Earlier versions stay, so deadlines computed on them can be recomputed.';

CREATE FUNCTION @extschema@.add_business_time(p_tenant_id bigint, p_calendar_id bigint, p_start timestamptz, p_duration interval)
    RETURNS timestamptz
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_add_business_time';
COMMENT ON FUNCTION @extschema@.add_business_time(bigint, bigint, timestamptz, interval) IS
    'The earliest instant t >= p_start such that the working time of the calendar inside [p_start, t) equals p_duration (a day counts 24 hours; months are refused). A zero duration returns p_start; a duration used up exactly at the end of a working interval returns that end.';

CREATE FUNCTION @extschema@.business_time_between(p_tenant_id bigint, p_calendar_id bigint, p_from timestamptz, p_to timestamptz)
    RETURNS interval
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_business_time_between';
COMMENT ON FUNCTION @extschema@.business_time_between(bigint, bigint, timestamptz, timestamptz) IS
    'The working time of the calendar inside [p_from, p_to), as an interval of hours, minutes and seconds; negative when p_to is before p_from.';
