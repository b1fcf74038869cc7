-- calendar: business calendars and the business-time arithmetic, on cases
-- worked out by hand (the randomized comparison with a brute-force walk is
-- calendar_reference), versions, and every bad input.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();
SET LOCAL TimeZone = 'UTC';

SELECT womgr.create_tenant('{"code": "cal-test", "name": "Saa Kazi Ltd"}') AS t \gset
-- Nairobi office: weekdays 08:00-17:00, Saturday 09:00-13:00; Christmas and Boxing Day off
SELECT womgr.create_calendar(:t, 'Nairobi office', 'Africa/Nairobi',
    '{"mon": [["08:00", "17:00"]], "tue": [["08:00", "17:00"]], "wed": [["08:00", "17:00"]], "thu": [["08:00", "17:00"]],
      "fri": [["08:00", "17:00"]], "sat": [["09:00", "13:00"]]}', '{2026-12-25, 2026-12-26}') AS nbo \gset

SELECT is(womgr.add_business_time(:t, :nbo, '2026-11-23 16:00+03', '2 hours'), '2026-11-24 09:00+03'::timestamptz,
          'Monday 16:00 + 2 h: one hour on Monday, one on Tuesday from 08:00');
SELECT is(womgr.add_business_time(:t, :nbo, '2026-11-23 16:00+03', '1 hour'), '2026-11-23 17:00+03'::timestamptz,
          'used up exactly at closing time: the answer is 17:00, not the next opening');
SELECT is(womgr.add_business_time(:t, :nbo, '2026-11-23 20:00+03', '0'), '2026-11-23 20:00+03'::timestamptz,
          'a zero duration returns the start, even outside working hours');
SELECT is(womgr.add_business_time(:t, :nbo, '2026-11-23 20:00+03', '1 minute'), '2026-11-24 08:01+03'::timestamptz,
          'from outside working hours the clock starts at the next opening');
SELECT is(womgr.add_business_time(:t, :nbo, '2026-11-28 12:00+03', '3 hours'), '2026-11-30 10:00+03'::timestamptz,
          'Saturday''s short day, then Sunday off');
SELECT is(womgr.add_business_time(:t, :nbo, '2026-12-24 16:00+03', '5 hours'), '2026-12-28 12:00+03'::timestamptz,
          'holidays are skipped: Christmas and Boxing Day');
SELECT is(womgr.add_business_time(:t, :nbo, '2026-11-23 08:00+03', '1 day'), '2026-11-25 14:00+03'::timestamptz,
          'a day counts 24 working hours (9 + 9 + 6)');
SELECT is(womgr.business_time_between(:t, :nbo, '2026-11-23 00:00+03', '2026-11-30 00:00+03'), '49:00:00'::interval,
          'a full week is 5 x 9 + 4 = 49 working hours');
SELECT is(womgr.business_time_between(:t, :nbo, '2026-11-30 00:00+03', '2026-11-23 00:00+03'), '-49:00:00'::interval,
          'reversed, the working time is negative');
SELECT is(womgr.business_time_between(:t, :nbo, '2026-11-23 12:00+03', '2026-11-23 12:00+03'), '00:00:00'::interval,
          'an empty range has no working time');
SELECT is(womgr.business_time_between(:t, :nbo, '2026-11-23 16:00+03',
                                      womgr.add_business_time(:t, :nbo, '2026-11-23 16:00+03', '400 days')),
          '9600:00:00'::interval, 'years ahead: 400 x 24 working hours later, the working time between is exactly that');
SELECT is(womgr.business_time_between(:t, :nbo, '1950-01-02 00:00+03', '1950-01-09 00:00+03'), '49:00:00'::interval,
          'the calendar reaches back in time as well');

-- daylight saving time: local hours become instants as PostgreSQL converts them
SELECT womgr.create_calendar(:t, 'New York Sundays', 'America/New_York', '{"sun": [["00:00", "24:00"]]}') AS ny \gset
SELECT is(womgr.business_time_between(:t, :ny, '2026-03-08 00:00-05', '2026-03-09 00:00-04'), '23:00:00'::interval,
          'the spring-forward Sunday has 23 working hours');
SELECT is(womgr.business_time_between(:t, :ny, '2026-11-01 00:00-04', '2026-11-02 00:00-05'), '25:00:00'::interval,
          'the fall-back Sunday has 25');
SELECT is(womgr.add_business_time(:t, :ny, '2026-03-07 23:00-05', '3 hours'), '2026-03-08 04:00-04'::timestamptz,
          'three working hours from Saturday night end at 04:00 EDT: 02:00-03:00 does not exist');
SELECT womgr.create_calendar(:t, 'New York nights', 'America/New_York', '{"sun": [["01:00", "03:30"]]}') AS nyn \gset
SELECT is(womgr.business_time_between(:t, :nyn, '2026-03-08 00:00-05', '2026-03-09 00:00-04'),
          ('2026-03-08 03:30'::timestamp AT TIME ZONE 'America/New_York') - ('2026-03-08 01:00'::timestamp AT TIME ZONE 'America/New_York'),
          'an interval across the gap is as long as PostgreSQL''s own conversion makes it');
SELECT is(womgr.business_time_between(:t, :nyn, '2026-11-01 00:00-04', '2026-11-02 00:00-05'),
          ('2026-11-01 03:30'::timestamp AT TIME ZONE 'America/New_York') - ('2026-11-01 01:00'::timestamp AT TIME ZONE 'America/New_York'),
          'an ambiguous 01:00 is read as PostgreSQL reads it (standard time, after the jump back)');
SELECT womgr.create_calendar(:t, 'New York early', 'America/New_York', '{"sun": [["00:00", "03:00"]]}') AS nye \gset
SELECT is(womgr.business_time_between(:t, :nye, '2026-11-01 00:00-04', '2026-11-02 00:00-05'), '04:00:00'::interval,
          'a working interval across the repeated hour is an hour longer');

-- overnight shifts and 24/7
SELECT womgr.create_calendar(:t, 'Night shift', 'Africa/Nairobi',
    '{"mon": [["22:00", "24:00"]], "tue": [["00:00", "06:00"], ["22:00", "24:00"]], "wed": [["00:00", "06:00"]]}') AS night \gset
SELECT is(womgr.add_business_time(:t, :night, '2026-11-23 23:00+03', '4 hours'), '2026-11-24 03:00+03'::timestamptz,
          'an overnight shift written as two intervals runs through midnight');
SELECT womgr.create_calendar(:t, 'Always', 'UTC', '{"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]],
    "thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]], "sun": [["00:00", "24:00"]]}') AS always \gset
SELECT is(womgr.add_business_time(:t, :always, '2026-11-23 10:00+00', '100 hours'), '2026-11-27 14:00+00'::timestamptz,
          'on a 24/7 calendar business time is clock time');

-- versions: an edit makes a new version; the arithmetic follows it at once
SELECT is(womgr.update_calendar(:t, :nbo, p_hours => '{"mon": [["08:00", "12:00"]]}'), 2, 'an edit writes version 2');
SELECT is(womgr.add_business_time(:t, :nbo, '2026-11-23 16:00+03', '2 hours'), '2026-11-30 10:00+03'::timestamptz,
          'and the next call already uses it (Mondays 08:00-12:00 only)');
SELECT is((SELECT array_agg(version || ':' || coalesce(jsonb_typeof(hours -> 'tue'), 'none') ORDER BY version) FROM womgr.calendar_version
            WHERE tenant_id = :t AND calendar_id = :nbo), ARRAY['1:array', '2:none'], 'version 1 is kept as it was');
SELECT is(womgr.update_calendar(:t, :nbo, p_holidays => '{2026-11-30}'), 3, 'holidays alone can change');
SELECT is(womgr.add_business_time(:t, :nbo, '2026-11-23 16:00+03', '2 hours'), '2026-12-07 10:00+03'::timestamptz,
          'and the new holiday is skipped');
SELECT throws_ok(format('UPDATE womgr.calendar_version SET timezone = %L WHERE tenant_id = %s', 'UTC', :t), '55000', NULL,
                 'calendar versions are never changed');
SELECT throws_ok(format('DELETE FROM womgr.calendar_version WHERE tenant_id = %s', :t), '55000', NULL, 'nor deleted');

-- another tenant's calendar is not found
SELECT womgr.create_tenant('{"code": "cal-other", "name": "Other Ltd"}') AS t2 \gset
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, %s, now(), %L)', :t2, :nbo, '1 hour'), '23503',
                 'calendar ' || :nbo || ' does not exist', 'a calendar of another tenant');

-- bad input
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, %s, now(), %L)', :t, :nbo, '1 month'), '22023',
                 'a business-time duration cannot have months', 'add_business_time: months');
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, %s, now(), %L)', :t, :nbo, '-1 hour'), '22023',
                 'a business-time duration must not be negative', 'add_business_time: negative duration');
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, %s, %L, %L)', :t, :nbo, 'infinity', '1 hour'), '22008', NULL,
                 'add_business_time: infinite start');
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, %s, %L, %L)', :t, :nbo, '9999-12-30 10:00+00', '1000 hours'), '22008', NULL,
                 'add_business_time: a result beyond 9999');
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, %s, %L, %L)', :t, :nbo, '1800-01-01 10:00+00', '1 hour'), '22008', NULL,
                 'add_business_time: a start before 1900');
SELECT throws_ok(format('SELECT womgr.add_business_time(NULL, %s, now(), %L)', :nbo, '1 hour'), '22004', 'tenant must not be null',
                 'add_business_time: null tenant');
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, NULL, now(), %L)', :t, '1 hour'), '22004', 'calendar id must not be null',
                 'add_business_time: null calendar');
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, %s, NULL, %L)', :t, :nbo, '1 hour'), '22004', 'start must not be null',
                 'add_business_time: null start');
SELECT throws_ok(format('SELECT womgr.add_business_time(%s, %s, now(), NULL)', :t, :nbo), '22004', 'duration must not be null',
                 'add_business_time: null duration');
SELECT throws_ok(format('SELECT womgr.business_time_between(%s, %s, now(), NULL)', :t, :nbo), '22004', 'to must not be null',
                 'business_time_between: null end');
SELECT throws_ok(format('SELECT womgr.business_time_between(%s, 999999, now(), now())', :t), '23503', NULL,
                 'business_time_between: unknown calendar');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'Mars/Olympus', '{"mon": [["08:00", "17:00"]]}'),
                 '22023', 'time zone "Mars/Olympus" is not known', 'create_calendar: unknown time zone');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [["08:00", "07:00"]]}'),
                 '22023', 'a working interval of "mon" ends before it starts', 'create_calendar: end before start');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [["08:00", "08:00"]]}'),
                 '22023', 'a working interval of "mon" ends before it starts', 'create_calendar: empty interval');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"tue": [["08:00", "12:00"], ["11:00", "13:00"]]}'),
                 '22023', 'working intervals of "tue" overlap', 'create_calendar: overlapping intervals');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{}'),
                 '22023', 'the calendar has no working time', 'create_calendar: no working time');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [], "sun": []}'),
                 '22023', 'the calendar has no working time', 'create_calendar: only empty days');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"monday": [["08:00", "17:00"]]}'),
                 '22023', 'working hours name an unknown weekday "monday"', 'create_calendar: unknown weekday');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [["8:00", "17:00"]]}'),
                 '22007', 'working hours of "mon" hold an invalid time "8:00"', 'create_calendar: malformed time');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [["08:60", "17:00"]]}'),
                 '22007', NULL, 'create_calendar: minute 60');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [["24:00", "24:00"]]}'),
                 '22007', NULL, 'create_calendar: 24:00 as a start');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": "08:00-17:00"}'),
                 '42804', 'working hours of a weekday must be a JSON array', 'create_calendar: a day that is not a list');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [["08:00"]]}'),
                 '42804', NULL, 'create_calendar: a half interval');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [[8, 17]]}'),
                 '42804', NULL, 'create_calendar: numbers for times');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC', '[["08:00", "17:00"]]'),
                 '42804', 'working hours must be a JSON object', 'create_calendar: hours not an object');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'x', 'UTC',
                        jsonb_build_object('mon', (SELECT jsonb_agg(jsonb_build_array(lpad(h::text, 2, '0') || ':00', lpad(h::text, 2, '0') || ':30'))
                                                     FROM generate_series(0, 12) h))),
                 '54000', NULL, 'create_calendar: more than 12 intervals a day');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [["08:00", "17:00"]]}', '{2026-12-25,NULL}'),
                 '22004', 'holidays must not contain NULL', 'create_calendar: a NULL holiday');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L, %L)', :t, 'x', 'UTC', '{"mon": [["08:00", "17:00"]]}', '{infinity}'),
                 '22008', 'holidays must be finite dates', 'create_calendar: an infinite holiday');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, 'Nairobi office', 'UTC', '{"mon": [["08:00", "17:00"]]}'),
                 '23505', NULL, 'create_calendar: duplicate name');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, %L, %L)', :t, ' ', 'UTC', '{"mon": [["08:00", "17:00"]]}'),
                 '22004', 'calendar name must not be empty', 'create_calendar: blank name');
SELECT throws_ok(format('SELECT womgr.create_calendar(%s, %L, NULL, %L)', :t, 'x', '{"mon": [["08:00", "17:00"]]}'),
                 '22004', NULL, 'create_calendar: null time zone');
SELECT throws_ok(format('SELECT womgr.create_calendar(NULL, %L, %L, %L)', 'x', 'UTC', '{"mon": [["08:00", "17:00"]]}'),
                 '22004', 'tenant must not be null', 'create_calendar: null tenant');
SELECT throws_ok(format('SELECT womgr.update_calendar(%s, 999999)', :t), 'P0002', 'calendar 999999 does not exist',
                 'update_calendar: unknown calendar');
SELECT throws_ok(format('SELECT womgr.update_calendar(%s, %s, %L)', :t, :nbo, 'Nowhere/City'), '22023', NULL,
                 'update_calendar: unknown time zone');
SELECT is((SELECT current_version FROM womgr.calendar WHERE tenant_id = :t AND calendar_id = :nbo), 3,
          'a refused edit writes no version');

SELECT * FROM finish();
ROLLBACK;
