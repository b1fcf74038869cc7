-- Dispatch: an exact linear assignment solver (C, src/solver.c).  Rows are
-- jobs, columns technicians; NULL or 'Infinity' forbids a pairing.

CREATE FUNCTION @extschema@.solve_assignment(p_cost float8[])
    RETURNS TABLE (row_no integer, col_no integer, cost float8)
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'womgr_solve_assignment';
COMMENT ON FUNCTION @extschema@.solve_assignment(float8[]) IS
    'Exact linear assignment of the rows (jobs) of a 2-D cost matrix to its columns (technicians): as many rows as possible, then the least total cost. NULL or ''Infinity'' forbids a cell; rows and columns count from 1 within the array. Returns the assigned rows, ordered by row_no, with the cost of each chosen cell.';
