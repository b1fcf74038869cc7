-- The day-route engine (C, src/route.c): the order of one technician's
-- stops, with time windows, waiting, lateness and an optional way home.
-- Internal: womgr.day_route() is the public entry point.

CREATE FUNCTION @extschema@._route_order(
        p_depart timestamptz, p_lat float8[], p_lon float8[], p_service_s float8[],
        p_earliest timestamptz[], p_latest timestamptz[],
        p_detour float8, p_speed_kmh float8,
        p_end_lat float8 DEFAULT NULL, p_end_lon float8 DEFAULT NULL)
    RETURNS TABLE (seq int, stop int, arrive_at timestamptz, start_at timestamptz, finish_at timestamptz,
                   travel_s float8, distance_m float8, wait_s float8, late_s float8)
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_route_order';
COMMENT ON FUNCTION @extschema@._route_order(timestamptz, float8[], float8[], float8[], timestamptz[], timestamptz[],
                                             float8, float8, float8, float8) IS
    'Internal: orders a technician''s stops (element 1 of p_lat/p_lon is the start point, then one point per stop; p_service_s, p_earliest, p_latest one element per stop, a NULL bound is no bound) minimizing total lateness, then total travel time (great-circle distance x p_detour at p_speed_kmh, the way back to p_end_lat/p_end_lon included when given); returns one row per stop in visiting order (stop = 1-based stop number) with arrival, start, finish, leg travel and distance, wait and lateness, then with an end point a last row (stop NULL) for the way home; no stops, no rows. Insertion by deadline and nearest-in-time constructions, each improved by 2-opt and or-opt until no move helps; exhaustive up to 9 stops; deterministic; at most 1000 stops. Called by womgr.day_route().';
