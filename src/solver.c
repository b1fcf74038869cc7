/*
 * solver.c: an exact linear assignment solver for dispatch.
 *
 *   womgr.solve_assignment(p_cost float8[]) RETURNS TABLE (row_no, col_no, cost)
 *
 * Rows are jobs, columns technicians; a cell holding NULL or +Infinity
 * forbids that pairing.  The answer assigns as many rows as possible and,
 * among all assignments of that many rows, has the least total cost.
 *
 * Two engines, both shortest augmenting paths with dual potentials
 * (Jonker & Volgenant 1987), O(n^2 m) in the worst case for n <= m:
 *
 * - lap_dense: no forbidden cell.  Every row of the smaller dimension can be
 *   assigned, so the objective is the plain minimum total cost.  A square
 *   matrix gets JV's initialization (column reduction, reduction transfer,
 *   two passes of augmenting row reduction); a rectangular one starts from
 *   zero column prices (the free columns' prices must stay equal) with the
 *   augmenting row reduction only.  Then Dijkstra on reduced costs from each
 *   row still free, in plain doubles over contiguous rows of the matrix.
 *
 * - lap_lex: some cells forbidden.  Each row i gets a private dummy column
 *   that only it may use, at cost (1, 0); a real cell costs (0, c).  Costs,
 *   prices and distances are pairs (unassigned rows, cost) compared
 *   lexicographically, so the minimum of the padded problem (which always
 *   has a full assignment) is exactly "most rows assigned, then least cost".
 *   The first component is an integer: no big-M constant, no lost precision.
 *
 * Both engines work on the orientation with no more rows than columns (a
 * tall matrix is transposed first).  lsa_solve() is the C entry point; the
 * SQL function is a thin wrapper around it.
 */
#include "womgr.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

/* limits, documented in docs/dispatch.md (The solver) */
#define LSA_MAX_ROWS 5000
#define LSA_MAX_COLS 5000
/* finite costs beyond this could overflow the sums of prices along paths */
#define LSA_MAX_ABS_COST 1e200

/* the first component of an unreachable lexicographic distance */
#define LEX_INF (PG_INT64_MAX / 4)

static void
lsa_check_size(int nrows, int ncols)
{
	if (nrows > LSA_MAX_ROWS || ncols > LSA_MAX_COLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cost matrix of size %d x %d is too large", nrows, ncols),
				 errdetail("The assignment solver accepts at most %d rows (jobs) and %d columns (technicians).",
						   LSA_MAX_ROWS, LSA_MAX_COLS),
				 errhint("Split the dispatch into smaller batches, e.g. by branch or region.")));
}

/* ---------- no forbidden cell: plain doubles ---------- */

/*
 * Minimum-cost assignment of all n rows of the dense n x m matrix c
 * (row-major, every cell finite, n <= m) to distinct columns; rowsol[i]
 * receives row i's column.
 *
 * Invariants between the phases: prices v[] are such that every assigned
 * row's column has the least reduced cost c[i][j] - v[j] of its row (the row
 * potential is implicit), and when n < m every free column has price 0 and
 * every assigned one a price <= 0 (rectangular complementary slackness).
 */
static void
lap_dense(int n, int m, const double *c, int *rowsol)
{
	int		   *colsol = palloc(sizeof(int) * m);
	double	   *v = palloc(sizeof(double) * m);
	int		   *freerows = palloc(sizeof(int) * n);
	double	   *d = palloc(sizeof(double) * m);
	int		   *pred = palloc(sizeof(int) * m);
	int		   *collist = palloc(sizeof(int) * m);
	int			numfree = 0;

	for (int i = 0; i < n; i++)
		rowsol[i] = -1;
	for (int j = 0; j < m; j++)
		colsol[j] = -1;

	if (n == 1)
	{
		int			best = 0;

		for (int j = 1; j < m; j++)
			if (c[j] < c[best])
				best = j;
		rowsol[0] = best;
		goto done;
	}

	if (n == m)
	{
		/* column reduction: each column goes to its cheapest row */
		int		   *imin = collist;	/* scratch */
		int		   *matches = pred; /* scratch */

		for (int j = 0; j < m; j++)
		{
			v[j] = c[j];
			imin[j] = 0;
		}
		for (int i = 1; i < n; i++)
		{
			const double *ci = c + (size_t) i * m;

			for (int j = 0; j < m; j++)
				if (ci[j] < v[j])
				{
					v[j] = ci[j];
					imin[j] = i;
				}
		}
		for (int i = 0; i < n; i++)
			matches[i] = 0;
		for (int j = m - 1; j >= 0; j--)
		{
			int			i = imin[j];

			if (++matches[i] == 1)
			{
				rowsol[i] = j;
				colsol[j] = i;
			}
			else if (v[j] < v[rowsol[i]])
			{
				colsol[rowsol[i]] = -1;
				rowsol[i] = j;
				colsol[j] = i;
			}
		}

		/*
		 * reduction transfer: a row that got exactly one column passes its
		 * slack to that column's price; rows that got none are free
		 */
		for (int i = 0; i < n; i++)
		{
			if (matches[i] == 0)
				freerows[numfree++] = i;
			else if (matches[i] == 1)
			{
				const double *ci = c + (size_t) i * m;
				int			j1 = rowsol[i];
				double		min = INFINITY;

				for (int j = 0; j < m; j++)
					if (j != j1 && ci[j] - v[j] < min)
						min = ci[j] - v[j];
				v[j1] = ci[j1] - min;
			}
		}
	}
	else
	{
		for (int j = 0; j < m; j++)
			v[j] = 0.0;
		for (int i = 0; i < n; i++)
			freerows[numfree++] = i;
	}

	/*
	 * augmenting row reduction, two passes: a free row takes its cheapest
	 * column, lowering that column's price until its second cheapest ties,
	 * and the row it displaces goes back to the list.  Bounded, so ties
	 * decided by tiny price steps cannot spin: whatever is left free goes to
	 * the shortest path phase, which is exact on its own.
	 */
	for (int pass = 0; pass < 2 && numfree > 0; pass++)
	{
		int			k = 0;
		int			prvnumfree = numfree;
		int64		steps = 0;
		int64		cap = (int64) 8 * n + 1000;

		numfree = 0;
		while (k < prvnumfree)
		{
			int			i,
						i0,
						j1 = 0,
						j2 = -1;
			const double *ci;
			double		umin,
						usubmin = INFINITY;

			if (++steps > cap)
				break;
			if ((steps & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			i = freerows[k++];
			ci = c + (size_t) i * m;
			umin = ci[0] - v[0];
			for (int j = 1; j < m; j++)
			{
				double		h = ci[j] - v[j];

				if (h < usubmin)
				{
					if (h >= umin)
					{
						usubmin = h;
						j2 = j;
					}
					else
					{
						usubmin = umin;
						umin = h;
						j2 = j1;
						j1 = j;
					}
				}
			}
			i0 = colsol[j1];
			if (umin < usubmin)
				v[j1] -= usubmin - umin;
			else if (i0 >= 0)
			{
				j1 = j2;
				i0 = colsol[j2];
			}
			rowsol[i] = j1;
			colsol[j1] = i;
			if (i0 >= 0)
			{
				rowsol[i0] = -1;
				if (umin < usubmin)
					freerows[--k] = i0; /* try it again at once */
				else
					freerows[numfree++] = i0;
			}
		}
		if (k < prvnumfree)
		{
			/* stopped early: keep the rows not looked at (numfree <= k) */
			memmove(freerows + numfree, freerows + k, sizeof(int) * (prvnumfree - k));
			numfree += prvnumfree - k;
		}
	}

	/* shortest augmenting path (Dijkstra on reduced costs) from each free row */
	for (int f = 0; f < numfree; f++)
	{
		int			freerow = freerows[f];
		const double *cf = c + (size_t) freerow * m;
		int			low = 0,
					up = 0,
					last = 0,
					endofpath = -1;
		double		min = 0.0;
		bool		found = false;

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < m; j++)
		{
			d[j] = cf[j] - v[j];
			pred[j] = freerow;
			collist[j] = j;
		}

		/*
		 * collist[0, low): ready (distance final); [low, up): the columns at
		 * the current minimum distance, to scan; [up, m): the rest
		 */
		do
		{
			if (up == low)
			{
				last = low - 1;
				min = d[collist[up++]];
				for (int k = up; k < m; k++)
				{
					int			j = collist[k];
					double		h = d[j];

					if (h <= min)
					{
						if (h < min)
						{
							up = low;
							min = h;
						}
						collist[k] = collist[up];
						collist[up++] = j;
					}
				}
				for (int k = low; k < up; k++)
					if (colsol[collist[k]] < 0)
					{
						endofpath = collist[k];
						found = true;
						break;
					}
			}
			if (!found)
			{
				int			j1 = collist[low++];
				int			i = colsol[j1];
				const double *ci = c + (size_t) i * m;
				double		h = ci[j1] - v[j1] - min;

				for (int k = up; k < m; k++)
				{
					int			j = collist[k];
					double		v2 = ci[j] - v[j] - h;

					if (v2 < d[j])
					{
						pred[j] = i;
						if (v2 == min)
						{
							if (colsol[j] < 0)
							{
								endofpath = j;
								found = true;
								break;
							}
							collist[k] = collist[up];
							collist[up++] = j;
						}
						d[j] = v2;
					}
				}
			}
		} while (!found);

		/* prices of the ready columns */
		for (int k = 0; k <= last; k++)
		{
			int			j1 = collist[k];

			v[j1] += d[j1] - min;
		}
		/* augment along the path */
		for (;;)
		{
			int			i = pred[endofpath];
			int			j1 = endofpath;

			colsol[j1] = i;
			endofpath = rowsol[i];
			rowsol[i] = j1;
			if (i == freerow)
				break;
		}
	}

done:
	pfree(colsol);
	pfree(v);
	pfree(freerows);
	pfree(d);
	pfree(pred);
	pfree(collist);
}

/* ---------- forbidden cells: (unassigned rows, cost) pairs ---------- */

#define LEX_LT(a1, b1, a2, b2) ((a1) < (a2) || ((a1) == (a2) && (b1) < (b2)))
#define LEX_LE(a1, b1, a2, b2) ((a1) < (a2) || ((a1) == (a2) && (b1) <= (b2)))

/*
 * Lexicographic assignment of the n x m matrix c (row-major, +Infinity
 * forbidden, n <= m), padded with n dummy columns: row i's own dummy column
 * m + i, which no other row may use, costs (1, 0); a real cell costs (0, c).
 * Every row ends up in a column of the padded matrix; rowsol[i] receives a
 * real column or -1.
 *
 * Prices of real columns are pairs (va, vb): free columns keep (0, 0),
 * assigned ones are <= (0, 0), as in lap_dense's rectangular case.  The
 * dummies need no stored price, because of their shape:
 *
 * - a free row's dummy is free, at price (0, 0);
 * - a dummy is reached only from its own row, and a row only through the
 *   column it holds, so a row holding its dummy is never reached again: it
 *   stays unassigned, and its dummy's price no longer matters (the row's
 *   dummy is and stays its cheapest column, since real prices only fall);
 * - so every dummy a shortest path search reaches is free, and the search
 *   keeps just the nearest one reached, next to the real columns.
 */
static void
lap_lex(int n, int m, const double *c, int *rowsol)
{
	int		   *colsol = palloc(sizeof(int) * m);
	int64	   *va = palloc0(sizeof(int64) * m);
	double	   *vb = palloc0(sizeof(double) * m);
	int64	   *da = palloc(sizeof(int64) * m);
	double	   *db = palloc(sizeof(double) * m);
	int		   *pred = palloc(sizeof(int) * m);
	int		   *collist = palloc(sizeof(int) * m);
	int		   *freerows = palloc(sizeof(int) * n);
	int			numfree = 0;

	for (int j = 0; j < m; j++)
		colsol[j] = -1;
	for (int i = 0; i < n; i++)
	{
		rowsol[i] = -1;
		freerows[numfree++] = i;
	}

	/*
	 * augmenting row reduction from zero prices, as in lap_dense, in pairs:
	 * each free row takes its cheapest column, its dummy (1, 0) included,
	 * lowering a real column's price until the second cheapest ties
	 */
	for (int pass = 0; pass < 2 && numfree > 0; pass++)
	{
		int			k = 0;
		int			prvnumfree = numfree;
		int64		steps = 0;
		int64		cap = (int64) 8 * n + 1000;

		numfree = 0;
		while (k < prvnumfree)
		{
			int			i,
						i0,
						j1,
						j2 = -1;
			const double *ci;
			int64		u1a = 1,
						u2a = LEX_INF;
			double		u1b = 0.0,
						u2b = 0.0;

			if (++steps > cap)
				break;
			if ((steps & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			i = freerows[k++];
			ci = c + (size_t) i * m;
			j1 = m + i;			/* the dummy first: ties go to real columns */
			for (int j = 0; j < m; j++)
			{
				int64		ha;
				double		hb;

				if (isinf(ci[j]))
					continue;
				ha = -va[j];
				hb = ci[j] - vb[j];
				if (LEX_LT(ha, hb, u2a, u2b))
				{
					if (LEX_LT(ha, hb, u1a, u1b))
					{
						u2a = u1a;
						u2b = u1b;
						j2 = j1;
						u1a = ha;
						u1b = hb;
						j1 = j;
					}
					else
					{
						u2a = ha;
						u2b = hb;
						j2 = j;
					}
				}
			}
			if (j1 >= m)
			{
				rowsol[i] = j1; /* unassigned for good */
				continue;
			}
			i0 = colsol[j1];
			if (LEX_LT(u1a, u1b, u2a, u2b))
			{
				/* u2 is finite: the dummy at least */
				va[j1] -= u2a - u1a;
				vb[j1] -= u2b - u1b;
				rowsol[i] = j1;
				colsol[j1] = i;
				if (i0 >= 0)
				{
					rowsol[i0] = -1;
					freerows[--k] = i0; /* try it again at once */
				}
			}
			else if (i0 < 0)
			{
				rowsol[i] = j1;
				colsol[j1] = i;
			}
			else if (j2 >= m)
				rowsol[i] = j2; /* tie with its dummy, cheapest real one taken */
			else
			{
				i0 = colsol[j2];
				rowsol[i] = j2;
				colsol[j2] = i;
				if (i0 >= 0)
				{
					rowsol[i0] = -1;
					freerows[numfree++] = i0;
				}
			}
		}
		if (k < prvnumfree)
		{
			memmove(freerows + numfree, freerows + k, sizeof(int) * (prvnumfree - k));
			numfree += prvnumfree - k;
		}
	}

	/* shortest augmenting paths; real columns as in lap_dense, plus the nearest dummy */
	for (int f = 0; f < numfree; f++)
	{
		int			freerow = freerows[f];
		const double *cf = c + (size_t) freerow * m;
		int			low = 0,
					up = 0,
					last = -1,
					endofpath = -1;
		int64		mina = 0,
					enda;
		double		minb = 0.0,
					endb;
		int			dummyrow = freerow; /* its dummy: (1, 0) from the start */
		int64		dumma = 1;
		double		dummb = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < m; j++)
		{
			pred[j] = freerow;
			collist[j] = j;
			if (!isinf(cf[j]))
			{
				da[j] = -va[j];
				db[j] = cf[j] - vb[j];
			}
			else
			{
				da[j] = LEX_INF;
				db[j] = 0.0;
			}
		}

		for (;;)
		{
			if (up == low)
			{
				last = low - 1;
				if (low < m)
				{
					mina = da[collist[up]];
					minb = db[collist[up]];
					up++;
					for (int k = up; k < m; k++)
					{
						int			j = collist[k];

						if (LEX_LE(da[j], db[j], mina, minb))
						{
							if (LEX_LT(da[j], db[j], mina, minb))
							{
								up = low;
								mina = da[j];
								minb = db[j];
							}
							collist[k] = collist[up];
							collist[up++] = j;
						}
					}
				}
				if (low == m || LEX_LE(dumma, dummb, mina, minb))
					break;		/* the nearest dummy ends the path */
				for (int k = low; k < up; k++)
					if (colsol[collist[k]] < 0)
					{
						endofpath = collist[k];
						break;
					}
				if (endofpath >= 0)
					break;
			}
			{
				int			j1 = collist[low++];
				int			i = colsol[j1];
				const double *ci = c + (size_t) i * m;
				int64		ha = -va[j1] - mina;	/* h = cost(i, j1) - v[j1] - min */
				double		hb = ci[j1] - vb[j1] - minb;

				/* row i's dummy, free since i holds j1 */
				if (LEX_LT(1 - ha, -hb, dumma, dummb))
				{
					dumma = 1 - ha;
					dummb = -hb;
					dummyrow = i;
				}
				for (int k = up; k < m; k++)
				{
					int			j = collist[k];
					int64		a2;
					double		b2;

					if (isinf(ci[j]))
						continue;
					a2 = -va[j] - ha;
					b2 = ci[j] - vb[j] - hb;
					if (LEX_LT(a2, b2, da[j], db[j]))
					{
						pred[j] = i;
						if (a2 == mina && b2 == minb)
						{
							if (colsol[j] < 0)
							{
								endofpath = j;
								break;
							}
							collist[k] = collist[up];
							collist[up++] = j;
						}
						da[j] = a2;
						db[j] = b2;
					}
				}
				if (endofpath >= 0)
					break;
			}
		}

		/* the path's length; prices of the ready columns */
		if (endofpath >= 0)
		{
			enda = mina;
			endb = minb;
		}
		else
		{
			enda = dumma;
			endb = dummb;
		}
		for (int k = 0; k <= last; k++)
		{
			int			j1 = collist[k];

			va[j1] += da[j1] - enda;
			vb[j1] += db[j1] - endb;
		}

		/* augment: from the end column back to the free row */
		if (endofpath < 0)
		{
			/* dummyrow gives up its column and stays unassigned */
			endofpath = rowsol[dummyrow];
			rowsol[dummyrow] = m + dummyrow;
			if (dummyrow == freerow)
				continue;
		}
		for (;;)
		{
			int			i = pred[endofpath];
			int			j1 = endofpath;

			colsol[j1] = i;
			endofpath = rowsol[i];
			rowsol[i] = j1;
			if (i == freerow)
				break;
		}
	}

	for (int i = 0; i < n; i++)
		if (rowsol[i] >= m)
			rowsol[i] = -1;

	pfree(colsol);
	pfree(va);
	pfree(vb);
	pfree(da);
	pfree(db);
	pfree(pred);
	pfree(collist);
	pfree(freerows);
}

/* ---------- entry point ---------- */

/*
 * Assigns rows to columns of the nrows x ncols matrix cost (row-major;
 * +INFINITY forbids a cell): as many rows as possible, and among those
 * assignments the least total cost.  row_to_col[i] receives row i's 0-based
 * column or -1; returns the number of rows assigned.  Raises on NaN,
 * -Infinity, finite costs beyond +-1e200 (cells named 1-based) and sizes
 * beyond the limits.
 */
int
lsa_solve(int nrows, int ncols, const double *cost, int *row_to_col)
{
	bool		forbidden = false;
	bool		transpose;
	int			n,
				m,
				assigned = 0;
	const double *c;
	double	   *t = NULL;
	int		   *sol;

	if (nrows < 0 || ncols < 0)
		elog(ERROR, "lsa_solve: negative matrix size %d x %d", nrows, ncols);
	lsa_check_size(nrows, ncols);
	for (int i = 0; i < nrows; i++)
		row_to_col[i] = -1;
	if (nrows == 0 || ncols == 0)
		return 0;

	for (int i = 0; i < nrows; i++)
	{
		const double *ci = cost + (size_t) i * ncols;

		for (int j = 0; j < ncols; j++)
		{
			double		x = ci[j];

			if (likely(fabs(x) <= LSA_MAX_ABS_COST))
				continue;
			if (isnan(x))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("cost matrix cell (%d, %d) is NaN", i + 1, j + 1),
						 errdetail("Row %d, column %d (counted from 1 within the matrix) holds NaN, which is not a cost.",
								   i + 1, j + 1),
						 errhint("Forbid a pairing with NULL or 'Infinity'.")));
			if (x == -INFINITY)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("cost matrix cell (%d, %d) is -Infinity", i + 1, j + 1),
						 errdetail("Row %d, column %d (counted from 1 within the matrix) holds -Infinity; with it the least total cost is undefined.",
								   i + 1, j + 1),
						 errhint("Use a finite cost; NULL or 'Infinity' forbids a pairing.")));
			if (x == INFINITY)
			{
				forbidden = true;
				continue;
			}
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("cost matrix cell (%d, %d) is out of range", i + 1, j + 1),
					 errdetail("Row %d, column %d (counted from 1 within the matrix) holds %g; finite costs must lie within -1e200 to 1e200 so that sums of costs stay finite.",
							   i + 1, j + 1, x),
					 errhint("Rescale the costs, e.g. to kilometres instead of metres.")));
		}
	}

	/* work on the orientation with rows <= columns */
	transpose = nrows > ncols;
	n = transpose ? ncols : nrows;
	m = transpose ? nrows : ncols;
	if (transpose)
	{
		t = palloc_extended(sizeof(double) * (Size) nrows * ncols, MCXT_ALLOC_HUGE);
		for (int i = 0; i < nrows; i++)
		{
			const double *ci = cost + (size_t) i * ncols;

			for (int j = 0; j < ncols; j++)
				t[(size_t) j * nrows + i] = ci[j];
		}
		c = t;
	}
	else
		c = cost;

	sol = palloc(sizeof(int) * n);
	if (forbidden)
		lap_lex(n, m, c, sol);
	else
		lap_dense(n, m, c, sol);

	for (int i = 0; i < n; i++)
	{
		if (sol[i] < 0)
			continue;
		if (transpose)
			row_to_col[sol[i]] = i;
		else
			row_to_col[i] = sol[i];
		assigned++;
	}
	pfree(sol);
	if (t)
		pfree(t);
	return assigned;
}

/* womgr.solve_assignment(p_cost float8[]) RETURNS TABLE (row_no int, col_no int, cost float8) */
PG_FUNCTION_INFO_V1(womgr_solve_assignment);
Datum
womgr_solve_assignment(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *arr;
	int			nrows,
				ncols;
	const char *data;
	const double *cost;
	double	   *dense = NULL;
	int		   *row_to_col;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cost matrix must not be null"),
				 errdetail("womgr.solve_assignment takes a two-dimensional float8 array: one row per job, one column per technician."),
				 errhint("Pass '{}' for no jobs; forbid a single pairing with NULL or 'Infinity' inside the matrix.")));
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		elog(ERROR, "womgr.solve_assignment expects a float8 array");
	if (ARR_NDIM(arr) != 0 && ARR_NDIM(arr) != 2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("cost matrix must be two-dimensional"),
				 errdetail("The array has %d dimension%s.", ARR_NDIM(arr), ARR_NDIM(arr) == 1 ? "" : "s"),
				 errhint("Write one inner array per job (row) with one element per technician (column), e.g. '{{4, 1}, {2, 0}}'.")));

	InitMaterializedSRF(fcinfo, 0);
	if (ARR_NDIM(arr) == 0)
		return (Datum) 0;		/* '{}': no jobs, no rows */

	nrows = ARR_DIMS(arr)[0];
	ncols = ARR_DIMS(arr)[1];
	lsa_check_size(nrows, ncols);
	/* ARR_DATA_PTR, spelled out: the macro mixes signedness (-Wsign-compare) */
	data = (const char *) arr +
		(ARR_HASNULL(arr) ? (Size) arr->dataoffset : ARR_OVERHEAD_NONULLS(ARR_NDIM(arr)));

	if (ARR_HASNULL(arr))
	{
		/* NULL cells become +Infinity (forbidden) */
		const bits8 *bitmap = ARR_NULLBITMAP(arr);
		const double *src = (const double *) data;
		size_t		ncells = (size_t) nrows * ncols;

		dense = palloc_extended(sizeof(double) * ncells, MCXT_ALLOC_HUGE);
		for (size_t k = 0; k < ncells; k++)
			dense[k] = (bitmap[k / 8] & (1 << (k % 8))) ? *src++ : INFINITY;
		cost = dense;
	}
	else
		cost = (const double *) data;

	row_to_col = palloc(sizeof(int) * Max(nrows, 1));
	lsa_solve(nrows, ncols, cost, row_to_col);

	for (int i = 0; i < nrows; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		int			j = row_to_col[i];

		if (j < 0)
			continue;
		values[0] = Int32GetDatum(i + 1);
		values[1] = Int32GetDatum(j + 1);
		values[2] = Float8GetDatum(cost[(size_t) i * ncols + j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(row_to_col);
	if (dense)
		pfree(dense);
	return (Datum) 0;
}
