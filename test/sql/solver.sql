-- solver: womgr.solve_assignment, the exact linear assignment solver, against
-- an independent brute force written here in PL/pgSQL: it enumerates every
-- assignment (each row in turn takes a free allowed column or none) and keeps
-- the best by (rows assigned desc, total cost asc).  Seeded random matrices
-- (setseed; nothing depends on the clock) of 1..8 rows and 1..8 columns,
-- square, wide and tall, with uniform, tied (small integers) and negative
-- costs, with and without forbidden cells (NULL, 'Infinity' or both), some
-- with lower bounds other than 1.  For each: the same count and total as the
-- brute force (total within 1e-9) and a valid answer (ordered distinct rows,
-- distinct columns, allowed cells, the cost column equal to the cell).  Then
-- hand-built cases with known answers, the two engines (no forbidden cell /
-- forbidden cells) against each other on larger matrices, and every error.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();
CREATE SCHEMA solver_test;

-- The brute force: depth-first over rows; choice[i] is row i's current
-- option (0 = unassigned, j = column j), pn/pc the count and cost after row i.
CREATE FUNCTION solver_test.brute(p float8[], OUT assigned int, OUT total float8)
    LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(array_length(p, 1), 0);
    m int := coalesce(array_length(p, 2), 0);
    c float8[];
    used bool[];
    choice int[];
    pn int[];
    pc float8[];
    i int;
    j int;
    x float8;
BEGIN
    assigned := 0;
    total := 0;
    IF n = 0 THEN
        RETURN;
    END IF;
    -- forbidden cells become NULL; c[(i - 1) * m + j] is row i, column j (from 1)
    FOR i IN 1..n LOOP
        FOR j IN 1..m LOOP
            x := p[array_lower(p, 1) + i - 1][array_lower(p, 2) + j - 1];
            c := c || CASE WHEN x = 'Infinity' THEN NULL ELSE x END;
        END LOOP;
    END LOOP;
    used := array_fill(false, ARRAY[m]);
    choice := array_fill(-1, ARRAY[n]);
    pn := array_fill(0, ARRAY[n + 1], ARRAY[0]);
    pc := array_fill(0::float8, ARRAY[n + 1], ARRAY[0]);
    assigned := -1;
    i := 1;
    LOOP
        IF choice[i] > 0 THEN
            used[choice[i]] := false;
        END IF;
        j := choice[i] + 1;
        WHILE j BETWEEN 1 AND m AND (used[j] OR c[(i - 1) * m + j] IS NULL) LOOP
            j := j + 1;
        END LOOP;
        IF j > m THEN
            choice[i] := -1;
            i := i - 1;
            EXIT WHEN i = 0;
            CONTINUE;
        END IF;
        choice[i] := j;
        IF j = 0 THEN
            pn[i] := pn[i - 1];
            pc[i] := pc[i - 1];
        ELSE
            used[j] := true;
            pn[i] := pn[i - 1] + 1;
            pc[i] := pc[i - 1] + c[(i - 1) * m + j];
        END IF;
        IF i < n THEN
            i := i + 1;
        ELSIF pn[n] > assigned OR (pn[n] = assigned AND pc[n] < total) THEN
            assigned := pn[n];
            total := pc[n];
        END IF;
    END LOOP;
END
$$;

-- A random n x m matrix with lower bounds lb1, lb2: kind 'uniform' [0, 100),
-- 'ties' 0..3, 'negative' [-100, 100), 'negties' -3..3; each cell forbidden
-- with probability pf, written as NULL, 'Infinity' or either ('both').
CREATE FUNCTION solver_test.matrix(n int, m int, kind text, pf float8, fas text, lb1 int, lb2 int)
    RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE
    r float8[] := array_fill(NULL::float8, ARRAY[n, m], ARRAY[lb1, lb2]);
    x float8;
BEGIN
    FOR i IN 1..n LOOP
        FOR j IN 1..m LOOP
            x := CASE kind WHEN 'uniform' THEN random() * 100
                           WHEN 'ties' THEN floor(random() * 4)
                           WHEN 'negative' THEN random() * 200 - 100
                           ELSE floor(random() * 7) - 3 END;
            IF random() < pf THEN
                x := CASE WHEN fas = 'NULL' OR (fas = 'both' AND random() < 0.5) THEN NULL ELSE 'Infinity' END;
            END IF;
            r[lb1 + i - 1][lb2 + j - 1] := x;
        END LOOP;
    END LOOP;
    RETURN r;
END
$$;

-- NULL when womgr.solve_assignment(p) is a valid answer for p, else what is wrong
CREATE FUNCTION solver_test.invalid(p float8[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    rows int[];
    cols int[];
    s record;
    x float8;
BEGIN
    SELECT coalesce(array_agg(row_no), '{}'), coalesce(array_agg(col_no), '{}') INTO rows, cols
      FROM womgr.solve_assignment(p);
    IF rows <> (SELECT coalesce(array_agg(DISTINCT r ORDER BY r), '{}') FROM unnest(rows) r) THEN
        RETURN 'rows not strictly increasing: ' || rows::text;
    END IF;
    IF cardinality(cols) <> (SELECT count(DISTINCT c) FROM unnest(cols) c) THEN
        RETURN 'a column used twice: ' || cols::text;
    END IF;
    FOR s IN SELECT * FROM womgr.solve_assignment(p) LOOP
        IF s.row_no NOT BETWEEN 1 AND array_length(p, 1) OR s.col_no NOT BETWEEN 1 AND array_length(p, 2) THEN
            RETURN format('cell (%s, %s) outside the matrix', s.row_no, s.col_no);
        END IF;
        x := p[array_lower(p, 1) + s.row_no - 1][array_lower(p, 2) + s.col_no - 1];
        IF x IS NULL OR x = 'Infinity' THEN
            RETURN format('forbidden cell (%s, %s) used', s.row_no, s.col_no);
        END IF;
        IF s.cost IS DISTINCT FROM x THEN
            RETURN format('cell (%s, %s) reported at cost %s, not %s', s.row_no, s.col_no, s.cost, x);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- total cost and count of an answer
CREATE FUNCTION solver_test.solve(p float8[], OUT assigned int, OUT total float8) LANGUAGE sql AS $$
    SELECT count(*)::int, coalesce(sum(cost), 0) FROM womgr.solve_assignment(p)
$$;

CREATE FUNCTION solver_test.transpose(p float8[]) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE
    n int := array_length(p, 1);
    m int := array_length(p, 2);
    r float8[] := array_fill(NULL::float8, ARRAY[m, n]);
BEGIN
    FOR i IN 1..n LOOP
        FOR j IN 1..m LOOP
            r[j][i] := p[array_lower(p, 1) + i - 1][array_lower(p, 2) + j - 1];
        END LOOP;
    END LOOP;
    RETURN r;
END
$$;

-- the random cases, drawn in a fixed order after setseed
CREATE TABLE solver_test.cases (k int PRIMARY KEY, n int, m int, kind text, pf float8, fas text, p float8[]);
DO $$
DECLARE
    kinds text[] := '{uniform, ties, negative, negties}';
    fass text[] := '{"NULL", Infinity, both}';
    n int;
    m int;
    pf float8;
BEGIN
    PERFORM setseed(0.3141);
    FOR k IN 1..300 LOOP
        n := 1 + floor(random() * 8)::int;
        m := 1 + floor(random() * 8)::int;
        pf := (ARRAY[0, 0, 0.15, 0.3, 0.5, 0.7])[1 + floor(random() * 6)::int];
        -- keep the enumeration short: the larger ones get forbidden cells
        IF least(n, m) >= 7 AND greatest(n, m) = 8 THEN
            pf := greatest(pf, 0.3);
        END IF;
        INSERT INTO solver_test.cases
        SELECT k, n, m, kind, pf, fas,
               solver_test.matrix(n, m, kind, pf, fas,
                                  CASE WHEN k % 5 = 0 THEN (ARRAY[0, -3, 5])[1 + k % 3] ELSE 1 END,
                                  CASE WHEN k % 7 = 0 THEN (ARRAY[2, 0, -1])[1 + k % 3] ELSE 1 END)
          FROM (SELECT kinds[1 + floor(random() * 4)::int] AS kind, fass[1 + floor(random() * 3)::int] AS fas) d;
    END LOOP;
    -- and three dense ones at full size (1.4 million assignments each for 8 x 8)
    INSERT INTO solver_test.cases VALUES
        (301, 8, 8, 'uniform', 0, 'NULL', solver_test.matrix(8, 8, 'uniform', 0, 'NULL', 1, 1)),
        (302, 8, 8, 'negties', 0, 'NULL', solver_test.matrix(8, 8, 'negties', 0, 'NULL', 1, 1)),
        (303, 7, 8, 'negative', 0, 'NULL', solver_test.matrix(7, 8, 'negative', 0, 'NULL', 0, 0));
END
$$;

CREATE TABLE solver_test.brute AS SELECT c.k, b.* FROM solver_test.cases c, solver_test.brute(c.p) b;

SELECT ok(s.assigned = b.assigned AND abs(s.total - b.total) <= 1e-9,
          format('case %s (%s x %s, %s, %s forbidden%s): %s assigned, and the same total as the brute force',
                 c.k, c.n, c.m, c.kind, CASE WHEN c.pf = 0 THEN 'none' ELSE round(c.pf * 100) || '% ' || c.fas END,
                 CASE WHEN array_lower(c.p, 1) <> 1 OR array_lower(c.p, 2) <> 1
                      THEN format(', bounds [%s:][%s:]', array_lower(c.p, 1), array_lower(c.p, 2)) ELSE '' END,
                 b.assigned))
  FROM solver_test.cases c JOIN solver_test.brute b USING (k), solver_test.solve(c.p) s
 ORDER BY c.k;
SELECT is(solver_test.invalid(c.p), NULL, format('case %s: a valid assignment', c.k))
  FROM solver_test.cases c ORDER BY c.k;

-- the random cases cover what they claim
SELECT ok((SELECT count(*) FROM solver_test.cases WHERE n = m) >= 10
          AND (SELECT count(*) FROM solver_test.cases WHERE n < m) >= 10
          AND (SELECT count(*) FROM solver_test.cases WHERE n > m) >= 10,
          'at least 10 square, 10 wide and 10 tall matrices');
SELECT ok((SELECT count(*) FROM solver_test.cases WHERE pf = 0) >= 10
          AND (SELECT count(*) FROM solver_test.cases WHERE p::text LIKE '%NULL%') >= 10
          AND (SELECT count(*) FROM solver_test.cases WHERE p::text LIKE '%Infinity%') >= 10,
          'at least 10 matrices without forbidden cells, 10 with NULL and 10 with Infinity');
SELECT ok((SELECT count(*) FROM solver_test.cases c JOIN solver_test.brute b USING (k) WHERE b.assigned < least(c.n, c.m)) >= 10,
          'at least 10 matrices where forbidden cells leave rows unassigned');
SELECT ok((SELECT count(*) FROM solver_test.cases WHERE kind IN ('ties', 'negties')) >= 20
          AND (SELECT count(*) FROM solver_test.cases WHERE kind IN ('negative', 'negties')) >= 20,
          'at least 20 matrices with ties and 20 with negative costs');
SELECT ok((SELECT count(*) FROM solver_test.cases WHERE n = 8 OR m = 8) >= 10
          AND (SELECT count(*) FROM solver_test.cases WHERE n = 1 OR m = 1) >= 10,
          'sizes reach 8 and 1 (at least 10 matrices each)');

-- hand-built cases
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{4, 1, 3}, {2, 0, 5}, {3, 2, 2}}')$$,
                  $$VALUES (1, 2, 1::float8), (2, 1, 2), (3, 3, 2)$$,
                  'a 3 x 3 matrix: the unique optimum, total 5');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{10, NULL}, {5, Infinity}}')$$,
                  $$VALUES (2, 1, 5::float8)$$,
                  'rows 1 and 2 both fit only column 1: the cheaper row 2 gets it, not the first row');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{1, 2}, {1, 100}}')$$,
                  $$VALUES (1, 2, 2::float8), (2, 1, 1)$$,
                  'not row by row: row 1 gives up its cheapest column (total 3, not 101)');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{1, 100}, {1000, NULL}}')$$,
                  $$VALUES (1, 2, 100::float8), (2, 1, 1000)$$,
                  'as many rows as possible first: total 1100 with two rows beats 1 with one');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{1, 2}, {NULL, Infinity}, {3, 1}}')$$,
                  $$VALUES (1, 1, 1::float8), (3, 2, 1)$$,
                  'a fully forbidden row is left out, the others are assigned');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{NULL, NULL}, {Infinity, NULL}}')$$,
                  $$SELECT 1, 1, 1::float8 WHERE false$$,
                  'every cell forbidden: no rows');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('[0:1][5:6]={{1, 2}, {3, -4}}')$$,
                  $$VALUES (1, 1, 1::float8), (2, 2, -4)$$,
                  'lower bounds [0:1][5:6]: rows and columns count from 1 within the array');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('[-2:-1][3:5]={{7, NULL, 1}, {NULL, 2, 0}}')$$,
                  $$VALUES (1, 3, 1::float8), (2, 2, 2)$$,
                  'negative lower bounds with forbidden cells');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{-5, -1}, {-2, -10}}')$$,
                  $$VALUES (1, 1, -5::float8), (2, 2, -10)$$,
                  'negative costs');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{3, 1, 2}}')$$,
                  $$VALUES (1, 2, 1::float8)$$,
                  'one row, three columns: its cheapest column');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{3}, {1}, {2}}')$$,
                  $$VALUES (2, 1, 1::float8)$$,
                  'three rows, one column: the cheapest row');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{5, 9, 1}, {Infinity, 4, 3}, {2, Infinity, 8}, {1, 1, Infinity}}')$$,
                  $$VALUES (1, 3, 1::float8), (3, 1, 2), (4, 2, 1)$$,
                  'a tall matrix with forbidden cells: 3 of 4 rows, total 4');
SELECT is((SELECT format('%s rows, total %s', count(DISTINCT col_no), sum(cost)) FROM womgr.solve_assignment('{{0, 0}, {0, 0}}')),
          '2 rows, total 0', 'all ties: one of the full assignments');
SELECT results_eq($$SELECT * FROM womgr.solve_assignment('{{7}}')$$, $$VALUES (1, 1, 7::float8)$$, 'a 1 x 1 matrix');
SELECT is((SELECT count(*)::int FROM womgr.solve_assignment('{}')), 0, 'an empty matrix: no rows');
SELECT is((SELECT count(*)::int FROM womgr.solve_assignment(array_fill(1::float8, ARRAY[0, 3]))), 0,
          'a matrix built with 0 rows: no rows');
SELECT results_eq($$SELECT row_no, col_no FROM womgr.solve_assignment('{{1e200, -1e200}, {-1e200, 1e200}}')$$,
                  $$VALUES (1, 2), (2, 1)$$,
                  'costs of magnitude 1e200 are accepted');

-- the two engines and both orientations against each other, on larger matrices
DO $$ BEGIN PERFORM setseed(0.2718); END $$;
CREATE TABLE solver_test.big AS
SELECT 1 AS k, solver_test.matrix(120, 120, 'uniform', 0, 'NULL', 1, 1) AS p
UNION ALL SELECT 2, solver_test.matrix(80, 150, 'negative', 0, 'NULL', 1, 1)
UNION ALL SELECT 3, solver_test.matrix(150, 60, 'ties', 0, 'NULL', 1, 1)
UNION ALL SELECT 4, solver_test.matrix(100, 130, 'uniform', 0.4, 'both', 1, 1)
UNION ALL SELECT 5, solver_test.matrix(140, 90, 'negties', 0.98, 'NULL', 1, 1);
-- an extra column of NULLs changes nothing but sends a matrix to the engine for forbidden cells
CREATE FUNCTION solver_test.add_null_column(p float8[]) RETURNS float8[] LANGUAGE sql AS $$
    SELECT array_agg(r ORDER BY i) FROM (
        SELECT i, (SELECT array_agg(p[i][j] ORDER BY j) FROM generate_series(1, array_length(p, 2)) j) || NULL::float8 AS r
          FROM generate_series(1, array_length(p, 1)) i) s
$$;
SELECT ok(a.assigned = least(array_length(b.p, 1), array_length(b.p, 2)) AND a.assigned = e.assigned
          AND abs(a.total - e.total) <= 1e-9 * greatest(1, abs(a.total)),
          format('matrix %s (%s x %s, no forbidden cell): the engine for forbidden cells finds the same total',
                 b.k, array_length(b.p, 1), array_length(b.p, 2)))
  FROM solver_test.big b, solver_test.solve(b.p) a, solver_test.solve(solver_test.add_null_column(b.p)) e
 WHERE b.k <= 3 ORDER BY b.k;
SELECT ok(a.assigned = t.assigned AND abs(a.total - t.total) <= 1e-9 * greatest(1, abs(a.total)),
          format('matrix %s (%s x %s): the transposed matrix gives the same count and total', b.k,
                 array_length(b.p, 1), array_length(b.p, 2)))
  FROM solver_test.big b, solver_test.solve(b.p) a, solver_test.solve(solver_test.transpose(b.p)) t
 ORDER BY b.k;
SELECT is(solver_test.invalid(b.p), NULL, format('matrix %s: a valid assignment', b.k))
  FROM solver_test.big b ORDER BY b.k;
SELECT ok((SELECT assigned FROM solver_test.solve(p)) < 90, 'matrix 5 (98% forbidden) leaves rows unassigned')
  FROM solver_test.big WHERE k = 5;

-- the function's properties
SELECT is((SELECT format('%s %s %s', provolatile, proparallel, proisstrict) FROM pg_proc
            WHERE oid = 'womgr.solve_assignment(float8[])'::regprocedure), 'i s f',
          'solve_assignment is IMMUTABLE, PARALLEL SAFE and not STRICT');

-- errors
SELECT throws_ok('SELECT * FROM womgr.solve_assignment(NULL)', '22004', 'cost matrix must not be null',
                 'a NULL matrix: 22004');
SELECT throws_ok($$SELECT * FROM womgr.solve_assignment('{1, 2}')$$, '2202E', 'cost matrix must be two-dimensional',
                 'a one-dimensional array: 2202E');
SELECT throws_ok($$SELECT * FROM womgr.solve_assignment('{{{1}}}')$$, '2202E', 'cost matrix must be two-dimensional',
                 'a three-dimensional array: 2202E');
SELECT throws_ok($$SELECT * FROM womgr.solve_assignment('{{1, NaN}}')$$, '22023', 'cost matrix cell (1, 2) is NaN',
                 'NaN: 22023, naming the cell');
SELECT throws_ok($$SELECT * FROM womgr.solve_assignment('{{1}, {-Infinity}}')$$, '22023', 'cost matrix cell (2, 1) is -Infinity',
                 '-Infinity: 22023, naming the cell');
SELECT throws_ok($$SELECT * FROM womgr.solve_assignment('[0:1][5:6]={{1, 2}, {NaN, 4}}')$$, '22023',
                 'cost matrix cell (2, 1) is NaN', 'the cell is named counting from 1 whatever the lower bounds');
SELECT throws_ok($$SELECT * FROM womgr.solve_assignment('{{1, NULL}, {2, -Infinity}}')$$, '22023',
                 'cost matrix cell (2, 2) is -Infinity', 'with forbidden cells too');
SELECT throws_ok($$SELECT * FROM womgr.solve_assignment('{{1, 2e200}}')$$, '22003', 'cost matrix cell (1, 2) is out of range',
                 'a finite cost beyond 1e200: 22003, naming the cell');
SELECT throws_ok('SELECT * FROM womgr.solve_assignment(array_fill(0::float8, ARRAY[5001, 1]))', '54000',
                 'cost matrix of size 5001 x 1 is too large', 'more than 5000 rows: 54000');
SELECT throws_ok('SELECT * FROM womgr.solve_assignment(array_fill(0::float8, ARRAY[1, 5001]))', '54000',
                 'cost matrix of size 1 x 5001 is too large', 'more than 5000 columns: 54000');

SELECT * FROM finish();
ROLLBACK;
