/*
 * route.c: the order of a technician's stops for a day.
 *
 * The model.  The technician leaves the start point at the departure time.
 * Travel between two points takes their great-circle distance
 * (geo_great_circle_m) divided by a speed in metres of straight line per
 * second (the road speed divided by the detour factor).  A stop starts at
 * max(arrival, earliest): arriving early means waiting.  It is late by
 * start - latest when it starts after its latest start, and it lasts its
 * service time.  Optionally the route ends at an end point (home), whose
 * travel counts; the end point has no time window.
 *
 * The objective is lexicographic: first the total lateness, then the total
 * travel time (including the way home).  Both are compared in whole
 * microseconds (timestamps have no finer resolution), so a tie is a tie and
 * the search cannot chase rounding noise.
 *
 * The method.
 *
 *  1. Two constructions.  (a) Insertion: stops are taken by latest start,
 *     then earliest start (unbounded last), then farthest from the start
 *     point first, then stop number, and each is inserted where the partial
 *     route is best on the full objective (the later place on a tie).
 *     Deadline order puts tight windows first; farthest-first insertion is
 *     the classic good construction for stops without windows.  (b) Nearest
 *     in time: from where the technician is, the stop that can start
 *     soonest.
 *
 *  2. Local search from each, first improvement, until no move improves
 *     the objective: 2-opt (reverse positions i..j) and or-opt (move a
 *     segment of 1 to 3 consecutive stops, as it is or reversed, to any
 *     other place).  The better of the two local optima is kept (the
 *     insertion's on a tie).
 *
 *     A move's travel change is O(1) (distances are symmetric).  Its
 *     lateness is evaluated from the first changed position, the unchanged
 *     runs of the current route in O(log n) each where possible: a run
 *     reached delta seconds later or earlier shifts by delta as a whole
 *     unless a wait absorbs (or an earlier arrival creates) waiting or a
 *     stop crosses its latest start, which range minima over the current
 *     route (sparse tables) tell.  The evaluation stops early once the
 *     lateness exceeds what the move may have, or once the rest of the
 *     route is the current one reached no earlier (a lower bound) or no
 *     later (an upper bound).  A move that passes this screen is verified
 *     by a full evaluation before it is taken, so every accepted move
 *     strictly improves the objective and the search ends.
 *
 *  3. Up to ROUTE_EXACT_MAX stops, an exhaustive depth-first search
 *     (branch and bound on the lateness and travel so far, which only grow)
 *     starting from the local optimum as the route to beat: small days get
 *     the best order, and of equally good orders the first in stop-number
 *     order.  Local search alone misses the best order on 1 to 3.5 % of
 *     random days of up to 9 stops.
 *
 * Everything is deterministic: fixed scan orders, only strict improvements,
 * ties by construction order (stop number last) and position.  At most
 * ROUTE_MAX_STOPS stops.
 */
#include "womgr.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define ROUTE_MAX_STOPS 1000
#define ROUTE_EXACT_MAX 9		/* up to this many stops the search is exhaustive */

#define START (-1)				/* the start point, as a stop index */
#define END (-2)				/* the end point */

/*
 * Minima over the positions of the current route, as a sparse table: level
 * k at position i holds the minimum over positions i .. i + 2^k - 1.
 */
typedef struct RangeMin
{
	int			levels;
	double	   *v;				/* levels x n */
} RangeMin;

typedef struct Solver
{
	int			n;				/* stops */
	const double *tt;			/* (n+1) x (n+1) travel seconds; point 0 is the start */
	const double *home;			/* n+1 travel seconds to the end point, or NULL */
	const double *svc;			/* service seconds */
	const double *ew;			/* earliest start, seconds after departure; -inf */
	const double *lw;			/* latest start; +inf */
	bool		windows;		/* some stop has a latest start: lateness is possible */

	/* the current route, by position */
	int			m;				/* stops in it (grows during construction) */
	int		   *node;			/* stop indices in visiting order */
	double	   *arr;			/* arrival */
	double	   *fin;			/* finish */
	double	   *cl;				/* lateness up to and including the position */
	int		   *cge;			/* stops up to the position starting at or after their latest start */
	int		   *cgt;			/* ... strictly after it (late) */
	RangeMin	neg_wait;		/* -(start - arrival) */
	RangeMin	slack_early;	/* arrival - earliest: how much earlier it may arrive without waiting */
	RangeMin	slack_late;		/* for a late stop, start - latest; else +inf */
	RangeMin	slack_ontime;	/* for a stop before its latest start, latest - start; else +inf */
	double		late;			/* total lateness */
	double		travel;			/* total travel, including the way to the end point */

	int		   *buf;			/* a candidate route */
	int		   *seq;			/* an explicit part of a candidate */
} Solver;

/* Travel seconds from stop a to stop b (START for the start point). */
static inline double
tt(const Solver *sv, int a, int b)
{
	return sv->tt[(a + 1) * (sv->n + 1) + (b + 1)];
}

/* Like tt, and b may be END: the way home (nothing when there is no end point). */
static inline double
edge(const Solver *sv, int a, int b)
{
	if (b == END)
		return sv->home != NULL ? sv->home[a + 1] : 0.0;
	return tt(sv, a, b);
}

/* Serves stop v arriving at time arr: adds its lateness, returns its finish. */
static inline double
serve(const Solver *sv, int v, double arr, double *late)
{
	double		st = Max(arr, sv->ew[v]);

	if (st > sv->lw[v])
		*late += st - sv->lw[v];
	return st + sv->svc[v];
}

/* The objective in whole microseconds: is (l1, t1) strictly better than (l2, t2)? */
static inline bool
obj_better(double l1, double t1, double l2, double t2)
{
	double		a = rint(l1 * 1e6),
				b = rint(l2 * 1e6);

	if (a != b)
		return a < b;
	return rint(t1 * 1e6) < rint(t2 * 1e6);
}

/* Lateness and travel of a whole route. */
static void
route_eval(const Solver *sv, const int *nodes, int m, double *late, double *travel)
{
	double		t = 0.0,
				l = 0.0,
				tr = 0.0;
	int			prev = START;

	for (int p = 0; p < m; p++)
	{
		int			v = nodes[p];
		double		d = tt(sv, prev, v);

		tr += d;
		t = serve(sv, v, t + d, &l);
		prev = v;
	}
	*late = l;
	*travel = tr + edge(sv, prev, END);
}

static void
rangemin_build(RangeMin *rm, int m)
{
	for (int k = 1; k < rm->levels && (1 << k) <= m; k++)
	{
		double	   *lo = rm->v + (k - 1) * m,
				   *hi = rm->v + k * m;

		for (int i = 0; i + (1 << k) <= m; i++)
			hi[i] = Min(lo[i], lo[i + (1 << (k - 1))]);
	}
}

/* Evaluates the current route, with what the moves ask about its runs. */
static void
rebuild(Solver *sv)
{
	double		t = 0.0,
				l = 0.0,
				tr = 0.0;
	int			prev = START,
				ge = 0,
				gt = 0,
				m = sv->m;

	for (int p = 0; p < m; p++)
	{
		int			v = sv->node[p];
		double		d = tt(sv, prev, v);

		tr += d;
		sv->arr[p] = t + d;
		t = serve(sv, v, t + d, &l);
		sv->fin[p] = t;
		sv->cl[p] = l;
		/* the run questions matter only when lateness can occur */
		if (sv->windows)
		{
			double		lw = sv->lw[v],
						st = Max(sv->arr[p], sv->ew[v]);	/* as serve has it */

			ge += st >= lw;
			gt += st > lw;
			sv->cge[p] = ge;
			sv->cgt[p] = gt;
			sv->neg_wait.v[p] = sv->arr[p] - st;
			sv->slack_early.v[p] = sv->arr[p] - sv->ew[v];
			sv->slack_late.v[p] = st > lw ? st - lw : get_float8_infinity();
			sv->slack_ontime.v[p] = st < lw ? lw - st : get_float8_infinity();
		}
		prev = v;
	}
	sv->late = l;
	sv->travel = tr + edge(sv, prev, END);
	if (sv->windows && m > 0)
	{
		rangemin_build(&sv->neg_wait, m);
		rangemin_build(&sv->slack_early, m);
		rangemin_build(&sv->slack_late, m);
		rangemin_build(&sv->slack_ontime, m);
	}
}

/*
 * The current positions from x on (a run up to y) reached delta seconds
 * later than in the current route (earlier when negative): the last
 * position z such that the shift passes through x..z unchanged (no waiting
 * absorbs or creates it, no stop crosses its latest start), or x - 1.
 * Found by descending the sparse tables, O(log n).
 */
static inline int
shift_reach(const Solver *sv, int x, int y, double delta)
{
	const RangeMin *ra,
			   *rb;
	double		ta,
				tb;
	int			m = sv->m,
				z = x - 1;

	if (delta == 0.0)
		return y;
	if (delta > 0.0)
	{
		/* later: no waiting on the run, and no stop on time by less than delta */
		ra = &sv->neg_wait;
		ta = 0.0;
		rb = &sv->slack_ontime;
		tb = delta;
	}
	else
	{
		/* earlier: no new waiting, and every late stop stays late */
		ra = &sv->slack_early;
		ta = -delta;
		rb = &sv->slack_late;
		tb = -delta;
	}
	for (int k = ra->levels - 1; k >= 0; k--)
	{
		if (z + (1 << k) <= y && ra->v[k * m + z + 1] >= ta && rb->v[k * m + z + 1] >= tb)
			z += 1 << k;
	}
	return z;
}

/* Lateness of the current positions x..z when each starts delta later (see shift_reach). */
static inline double
shifted_late(const Solver *sv, int x, int z, double delta)
{
	const int  *cnt = delta > 0.0 ? sv->cge : sv->cgt;

	return sv->cl[z] - (x > 0 ? sv->cl[x - 1] : 0.0) +
		(delta == 0.0 ? 0.0 : delta * (cnt[z] - (x > 0 ? cnt[x - 1] : 0)));
}

/*
 * A candidate route: the current positions [0, lo), then up to three
 * pieces, each either explicit stops or a run of current positions x..y,
 * the last one reaching the end of the route or not.
 */
typedef struct Piece
{
	const int  *stops;			/* explicit stops, or NULL for a run */
	int			k;				/* how many explicit stops */
	int			x,
				y;				/* the run; empty when x > y */
} Piece;

/*
 * Lateness of a candidate.  The result is exact, or else a lower bound above
 * bound (the candidate is out), or an upper bound at most bound (the
 * candidate passes): the caller only asks which side of bound the lateness
 * is on.
 */
static double
cand_late(const Solver *sv, int lo, const Piece *pc, int npc, double bound)
{
	double		t = lo > 0 ? sv->fin[lo - 1] : 0.0;
	double		l = lo > 0 ? sv->cl[lo - 1] : 0.0;
	int			prev = lo > 0 ? sv->node[lo - 1] : START;
	int			m = sv->m;
	double		total = m > 0 ? sv->cl[m - 1] : 0.0;

	for (int i = 0; i < npc; i++)
	{
		const Piece *p = &pc[i];

		if (p->stops != NULL)
		{
			for (int j = 0; j < p->k; j++)
			{
				int			v = p->stops[j];

				t = serve(sv, v, t + tt(sv, prev, v), &l);
				if (l > bound)
					return l;
				prev = v;
			}
			continue;
		}
		for (int q = p->x; q <= p->y;)
		{
			int			v = sv->node[q],
						z;
			double		a = t + tt(sv, prev, v),
						delta = a - sv->arr[q];

			if (p->y == m - 1)
			{
				/* the rest is the current route, shifted: later is no better, earlier no worse */
				double		rest = l + (total - (q > 0 ? sv->cl[q - 1] : 0.0));

				if (delta >= 0.0 && rest > bound)
					return rest;
				if (delta <= 0.0 && rest <= bound)
					return rest;
			}
			z = shift_reach(sv, q, p->y, delta);
			if (z >= q)
			{
				l += shifted_late(sv, q, z, delta);
				t = sv->fin[z] + delta;
				prev = sv->node[z];
				q = z + 1;
			}
			else
			{
				t = serve(sv, v, a, &l);
				prev = v;
				q++;
			}
			if (l > bound)
				return l;
		}
		if (l > bound)
			return l;
	}
	return l;
}

/*
 * First screen of a move whose travel is sv->travel + d.  Returns false when
 * the move cannot improve; otherwise sets *bound, the most lateness it may
 * have to improve.
 */
static bool
screen_travel(const Solver *sv, double d, double *bound)
{
	bool		travel_better = rint((sv->travel + d) * 1e6) < rint(sv->travel * 1e6);

	if (travel_better)
		*bound = sv->late + 0.5e-6;
	else
	{
		if (!sv->windows || rint(sv->late * 1e6) == 0)
			return false;
		*bound = sv->late - 0.5e-6;
	}
	return true;
}

/* Takes the candidate in buf when a full evaluation confirms it is better. */
static bool
try_accept(Solver *sv)
{
	double		l,
				t;

	route_eval(sv, sv->buf, sv->m, &l, &t);
	if (!obj_better(l, t, sv->late, sv->travel))
		return false;
	memcpy(sv->node, sv->buf, sizeof(int) * sv->m);
	rebuild(sv);
	return true;
}

/* ---------- construction ---------- */

typedef struct InsKey
{
	double		lw,
				ew,
				far;
	int			stop;
} InsKey;

static int
cmp_inskey(const void *a, const void *b)
{
	const InsKey *x = a,
			   *y = b;

	if (x->lw != y->lw)
		return x->lw < y->lw ? -1 : 1;
	if (x->ew != y->ew)
		return x->ew < y->ew ? -1 : 1;
	if (x->far != y->far)
		return x->far > y->far ? -1 : 1;
	return x->stop - y->stop;
}

static void
construct(Solver *sv)
{
	InsKey	   *keys = palloc(sizeof(InsKey) * Max(sv->n, 1));

	for (int i = 0; i < sv->n; i++)
	{
		keys[i].lw = sv->lw[i];
		keys[i].ew = sv->ew[i];
		keys[i].far = tt(sv, START, i);
		keys[i].stop = i;
	}
	qsort(keys, sv->n, sizeof(InsKey), cmp_inskey);

	sv->m = 0;
	rebuild(sv);
	for (int k = 0; k < sv->n; k++)
	{
		int			v = keys[k].stop;
		int			best = -1;
		Piece		pc[2];
		double		best_l = 0.0,
					best_t = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int p = 0; p <= sv->m; p++)
		{
			int			a = p > 0 ? sv->node[p - 1] : START;
			int			c = p < sv->m ? sv->node[p] : END;
			double		t = sv->travel + edge(sv, a, v) + edge(sv, v, c) - edge(sv, a, c);
			double		l;

			if (best >= 0 && rint(t * 1e6) > rint(best_t * 1e6) &&
				(!sv->windows || rint(best_l * 1e6) == 0))
				continue;		/* more travel and no lateness to gain */
			if (sv->windows)
			{
				pc[0].stops = &v;
				pc[0].k = 1;
				pc[1].stops = NULL;
				pc[1].x = p;
				pc[1].y = sv->m - 1;
				l = cand_late(sv, p, pc, 2, best >= 0 ? best_l + 0.5e-6 : get_float8_infinity());
				if (best >= 0 && obj_better(best_l, best_t, l, t))
					continue;
				/* the lateness may be an upper bound: evaluate exactly */
				memcpy(sv->buf, sv->node, sizeof(int) * p);
				sv->buf[p] = v;
				memcpy(sv->buf + p + 1, sv->node + p, sizeof(int) * (sv->m - p));
				route_eval(sv, sv->buf, sv->m + 1, &l, &t);
			}
			else
				l = 0.0;
			/* on a tie the later place wins: after the equal stops inserted before */
			if (best < 0 || !obj_better(best_l, best_t, l, t))
			{
				best = p;
				best_l = l;
				best_t = t;
			}
		}
		memmove(sv->node + best + 1, sv->node + best, sizeof(int) * (sv->m - best));
		sv->node[best] = v;
		sv->m++;
		rebuild(sv);
	}
	pfree(keys);
}

/* ---------- local search ---------- */

/* 2-opt: reverse positions i..j; one pass, first improvement. */
static bool
two_opt_pass(Solver *sv)
{
	int			m = sv->m;
	bool		improved = false;

	for (int i = 0; i < m - 1; i++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int j = i + 1; j < m; j++)
		{
			int			a = i > 0 ? sv->node[i - 1] : START;
			int			c = j < m - 1 ? sv->node[j + 1] : END;
			int			x = sv->node[i],
						y = sv->node[j];
			double		d = edge(sv, a, y) + edge(sv, x, c) - edge(sv, a, x) - edge(sv, y, c);
			double		bound;
			int			k = 0;

			if (!screen_travel(sv, d, &bound))
				continue;
			if (sv->windows)
			{
				Piece		pc[2];

				for (int p = j; p >= i; p--)
					sv->seq[k++] = sv->node[p];
				pc[0].stops = sv->seq;
				pc[0].k = k;
				pc[1].stops = NULL;
				pc[1].x = j + 1;
				pc[1].y = m - 1;
				if (cand_late(sv, i, pc, 2, bound) > bound)
					continue;
			}
			memcpy(sv->buf, sv->node, sizeof(int) * m);
			for (int p = i, q = j; p <= j; p++, q--)
				sv->buf[p] = sv->node[q];
			if (try_accept(sv))
				improved = true;
		}
	}
	return improved;
}

/*
 * or-opt: move the segment at positions a..a+len-1 (reversed when rev) to
 * between positions b and b+1 of the current route (b = -1: first); one
 * pass, first improvement.
 */
static bool
or_opt_pass(Solver *sv)
{
	int			m = sv->m;
	bool		improved = false;

	for (int len = 1; len <= 3; len++)
	{
		for (int a = 0; a + len <= m; a++)
		{
			CHECK_FOR_INTERRUPTS();
			for (int b = -1; b < m; b++)
			{
				if (b >= a - 1 && b <= a + len - 1)
					continue;
				for (int rev = 0; rev <= (len > 1 ? 1 : 0); rev++)
				{
					int			s0 = sv->node[a],
								s1 = sv->node[a + len - 1];
					int			first = rev ? s1 : s0,
								last = rev ? s0 : s1;
					int			p = a > 0 ? sv->node[a - 1] : START;
					int			q = a + len < m ? sv->node[a + len] : END;
					int			bn = b >= 0 ? sv->node[b] : START;
					int			cn = b + 1 < m ? sv->node[b + 1] : END;
					double		d = edge(sv, p, q) - edge(sv, p, s0) - edge(sv, s1, q) +
						edge(sv, bn, first) + edge(sv, last, cn) - edge(sv, bn, cn);
					double		bound;
					int			seg[3],
								lo;
					Piece		pc[3];

					if (!screen_travel(sv, d, &bound))
						continue;
					for (int i = 0; i < len; i++)
						seg[i] = sv->node[rev ? a + len - 1 - i : a + i];
					/* the candidate from its first changed position lo */
					if (b > a)
					{
						/* forwards: the stops after the segment up to b, the segment, the rest */
						lo = a;
						pc[0] = (Piece) {NULL, 0, a + len, b};
						pc[1] = (Piece) {seg, len, 0, -1};
						pc[2] = (Piece) {NULL, 0, b + 1, m - 1};
					}
					else
					{
						/* backwards: the segment, the stops from b + 1 up to it, the rest */
						lo = b + 1;
						pc[0] = (Piece) {seg, len, 0, -1};
						pc[1] = (Piece) {NULL, 0, b + 1, a - 1};
						pc[2] = (Piece) {NULL, 0, a + len, m - 1};
					}
					if (sv->windows && cand_late(sv, lo, pc, 3, bound) > bound)
						continue;
					if (b > a)
					{
						memcpy(sv->buf, sv->node, sizeof(int) * m);
						memmove(sv->buf + a, sv->node + a + len, sizeof(int) * (b - a - len + 1));
						memcpy(sv->buf + b - len + 1, seg, sizeof(int) * len);
					}
					else
					{
						memcpy(sv->buf, sv->node, sizeof(int) * m);
						memcpy(sv->buf + b + 1, seg, sizeof(int) * len);
						memcpy(sv->buf + b + 1 + len, sv->node + b + 1, sizeof(int) * (a - b - 1));
					}
					if (try_accept(sv))
						improved = true;
				}
			}
		}
	}
	return improved;
}

/* 2-opt and or-opt passes until neither improves. */
static void
local_search(Solver *sv)
{
	bool		improved;

	do
	{
		improved = two_opt_pass(sv);
		improved = or_opt_pass(sv) || improved;
	} while (improved);
}

/*
 * Second construction: from where the technician is, the stop that can
 * start soonest (then the one with the earliest latest start, then the
 * lower stop number).
 */
static void
construct_nearest(Solver *sv)
{
	bool	   *done = palloc0(sizeof(bool) * Max(sv->n, 1));
	double		t = 0.0,
				l = 0.0;
	int			prev = START;

	for (int k = 0; k < sv->n; k++)
	{
		int			best = -1;
		double		best_st = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int v = 0; v < sv->n; v++)
		{
			double		st;

			if (done[v])
				continue;
			st = Max(t + tt(sv, prev, v), sv->ew[v]);
			if (best < 0 || st < best_st || (st == best_st && sv->lw[v] < sv->lw[best]))
			{
				best = v;
				best_st = st;
			}
		}
		done[best] = true;
		sv->node[k] = best;
		t = serve(sv, best, t + tt(sv, prev, best), &l);
		prev = best;
	}
	sv->m = sv->n;
	rebuild(sv);
	pfree(done);
}

/*
 * Exact search for small days: depth-first over the stops in stop-number
 * order, starting from the heuristic's route as the one to beat, and
 * cutting a branch as soon as its lateness and travel so far (which only
 * grow) are worse than the best route's.  Among equally good routes the
 * first in stop-number order wins.
 */
typedef struct Exact
{
	const Solver *sv;
	int		   *cur;
	bool	   *used;
	int		   *best;
	double		best_l,
				best_t;
	uint64		visited;
} Exact;

/* Is stop order a before b, comparing stop numbers position by position? */
static bool
lex_less(const int *a, const int *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i];
	return false;
}

static void
exact_rec(Exact *ex, int k, int prev, double t, double l, double tr)
{
	const Solver *sv = ex->sv;

	if (k == sv->n)
	{
		tr += edge(sv, prev, END);
		if (obj_better(l, tr, ex->best_l, ex->best_t) ||
			(!obj_better(ex->best_l, ex->best_t, l, tr) && lex_less(ex->cur, ex->best, sv->n)))
		{
			memcpy(ex->best, ex->cur, sizeof(int) * sv->n);
			ex->best_l = l;
			ex->best_t = tr;
		}
		return;
	}
	if ((++ex->visited & 4095) == 0)
		CHECK_FOR_INTERRUPTS();
	for (int v = 0; v < sv->n; v++)
	{
		double		d,
					l2 = l,
					t2;

		if (ex->used[v])
			continue;
		d = tt(sv, prev, v);
		t2 = serve(sv, v, t + d, &l2);
		if (obj_better(ex->best_l, ex->best_t, l2, tr + d))
			continue;			/* already worse than the best route */
		ex->used[v] = true;
		ex->cur[k] = v;
		exact_rec(ex, k + 1, v, t2, l2, tr + d);
		ex->used[v] = false;
	}
}

static void
exact(Solver *sv)
{
	Exact		ex;

	ex.sv = sv;
	ex.cur = palloc(sizeof(int) * sv->n);
	ex.used = palloc0(sizeof(bool) * sv->n);
	ex.best = sv->buf;
	memcpy(ex.best, sv->node, sizeof(int) * sv->n);
	ex.best_l = sv->late;
	ex.best_t = sv->travel;
	ex.visited = 0;
	exact_rec(&ex, 0, START, 0.0, 0.0, 0.0);
	memcpy(sv->node, ex.best, sizeof(int) * sv->n);
	rebuild(sv);
	pfree(ex.cur);
	pfree(ex.used);
}

static void
solve(Solver *sv)
{
	int		   *keep = palloc(sizeof(int) * Max(sv->n, 1));
	double		keep_l,
				keep_t;

	construct(sv);
	local_search(sv);
	memcpy(keep, sv->node, sizeof(int) * sv->n);
	keep_l = sv->late;
	keep_t = sv->travel;

	construct_nearest(sv);
	local_search(sv);
	if (!obj_better(sv->late, sv->travel, keep_l, keep_t))
	{
		memcpy(sv->node, keep, sizeof(int) * sv->n);
		rebuild(sv);
	}
	pfree(keep);
	if (sv->n >= 2 && sv->n <= ROUTE_EXACT_MAX)
		exact(sv);
}

/* ---------- the problem ---------- */

static void
check_point(double lat, double lon, int stop)
{
	if (isnan(lat) || isnan(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180)
	{
		if (stop > 0)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("latitude %g, longitude %g of stop %d is not a place on Earth", lat, lon, stop),
					 errdetail("Latitude must be within [-90, 90] and longitude within [-180, 180]."),
					 errhint("Check that latitude and longitude are not swapped.")));
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("latitude %g, longitude %g of the %s point is not a place on Earth", lat, lon,
						stop == 0 ? "start" : "end"),
				 errdetail("Latitude must be within [-90, 90] and longitude within [-180, 180]."),
				 errhint("Check that latitude and longitude are not swapped.")));
	}
}

/* Seconds from depart to t; +-inf for the unbounded ends. */
static double
seconds_after(TimestampTz depart, TimestampTz t)
{
	int64		diff;

	if (TIMESTAMP_IS_NOBEGIN(t))
		return -get_float8_infinity();
	if (TIMESTAMP_IS_NOEND(t))
		return get_float8_infinity();
	if (pg_sub_s64_overflow(t, depart, &diff))
		return ((double) t - (double) depart) / 1e6;
	return (double) diff / 1e6;
}

/* depart + seconds, or an error when that is beyond the timestamp range. */
static TimestampTz
at_seconds(TimestampTz depart, double s)
{
	double		us = rint(s * 1e6);
	double		r = (double) depart + us;

	if (!(r >= (double) MIN_TIMESTAMP && r < (double) END_TIMESTAMP) ||
		!IS_VALID_TIMESTAMP(depart + (int64) us))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the route runs beyond the range of timestamps"),
				 errdetail("A time on the route is %g seconds after the departure.", s),
				 errhint("Check the service times and the departure time.")));
	return depart + (int64) us;
}

/*
 * Validates the problem, then orders the stops.  With an end point
 * (has_end) the way home counts in the travel.  Fills order (0-based stop
 * indices) and the totals.
 */
static void
route_solve(double start_lat, double start_lon, TimestampTz depart, const RouteStop *stops, int n,
			double speed_mps, bool has_end, double end_lat, double end_lon,
			int *order, double *total_late_s, double *total_travel_s)
{
	Solver		sv;
	int			np = n + 1,
				nn = Max(n, 1),
				levels;
	MemoryContext cxt,
				old;
	double	   *lat,
			   *lon,
			   *m,
			   *home = NULL,
			   *svc,
			   *ew,
			   *lw;

	if (n < 0 || n > ROUTE_MAX_STOPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a route can have at most %d stops, not %d", ROUTE_MAX_STOPS, n),
				 errdetail("The route engine orders one technician's day."),
				 errhint("Split the stops into several routes.")));
	if (isnan(speed_mps) || isinf(speed_mps) || speed_mps <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the travel speed must be positive and finite, not %g metres per second", speed_mps),
				 errdetail("The speed counts metres of straight line per second, after the detour."),
				 errhint("Pass e.g. 25 km/h with a detour of 1.3.")));
	if (TIMESTAMP_NOT_FINITE(depart))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the departure time must be finite"),
				 errdetail("infinity and -infinity are not times of day."),
				 errhint("Pass the time the technician leaves the start point.")));
	check_point(start_lat, start_lon, 0);
	if (has_end)
		check_point(end_lat, end_lon, -1);

	/* everything the search allocates goes when it is done */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "womgr route", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	lat = palloc(sizeof(double) * np);
	lon = palloc(sizeof(double) * np);
	svc = palloc(sizeof(double) * nn);
	ew = palloc(sizeof(double) * nn);
	lw = palloc(sizeof(double) * nn);
	lat[0] = start_lat;
	lon[0] = start_lon;
	sv.windows = false;
	for (int i = 0; i < n; i++)
	{
		const RouteStop *s = &stops[i];

		check_point(s->lat, s->lon, i + 1);
		if (isnan(s->service_s) || isinf(s->service_s) || s->service_s < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the service time of stop %d must be a finite number of seconds, at least 0, not %g",
							i + 1, s->service_s),
					 errdetail("The service time is how long the technician stays at the stop."),
					 errhint("Pass 0 for a stop that takes no time.")));
		if (TIMESTAMP_IS_NOEND(s->earliest) || TIMESTAMP_IS_NOBEGIN(s->latest))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("the time window of stop %d is unbounded at the wrong end", i + 1),
					 errdetail("An earliest start cannot be infinity, nor a latest start -infinity."),
					 errhint("Use DT_NOBEGIN for no earliest start and DT_NOEND for no latest start.")));
		if (!TIMESTAMP_IS_NOBEGIN(s->earliest) && !TIMESTAMP_IS_NOEND(s->latest) && s->earliest > s->latest)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the time window of stop %d ends before it begins", i + 1),
					 errdetail("Its earliest start %s is after its latest start %s.",
							   timestamptz_to_str(s->earliest), timestamptz_to_str(s->latest)),
					 errhint("The window is [earliest, latest] for the start of the service; leave a bound NULL for none.")));
		lat[i + 1] = s->lat;
		lon[i + 1] = s->lon;
		svc[i] = s->service_s;
		ew[i] = seconds_after(depart, s->earliest);
		lw[i] = seconds_after(depart, s->latest);
		if (!isinf(lw[i]))
			sv.windows = true;
	}

	/* the travel matrix, symmetric by construction */
	m = palloc(sizeof(double) * np * np);
	for (int i = 0; i < np; i++)
	{
		m[i * np + i] = 0.0;
		for (int j = i + 1; j < np; j++)
			m[i * np + j] = m[j * np + i] =
				geo_great_circle_m(lat[i], lon[i], lat[j], lon[j]) / speed_mps;
		if ((i & 63) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (has_end)
	{
		home = palloc(sizeof(double) * np);
		for (int i = 0; i < np; i++)
			home[i] = geo_great_circle_m(lat[i], lon[i], end_lat, end_lon) / speed_mps;
	}

	sv.n = n;
	sv.tt = m;
	sv.home = home;
	sv.svc = svc;
	sv.ew = ew;
	sv.lw = lw;
	sv.m = 0;
	sv.node = palloc(sizeof(int) * nn);
	sv.arr = palloc(sizeof(double) * nn);
	sv.fin = palloc(sizeof(double) * nn);
	sv.cl = palloc(sizeof(double) * nn);
	sv.cge = palloc(sizeof(int) * nn);
	sv.cgt = palloc(sizeof(int) * nn);
	levels = pg_leftmost_one_pos32((uint32) nn) + 1;
	sv.neg_wait.levels = sv.slack_early.levels = sv.slack_late.levels = sv.slack_ontime.levels = levels;
	sv.neg_wait.v = palloc(sizeof(double) * levels * nn);
	sv.slack_early.v = palloc(sizeof(double) * levels * nn);
	sv.slack_late.v = palloc(sizeof(double) * levels * nn);
	sv.slack_ontime.v = palloc(sizeof(double) * levels * nn);
	sv.buf = palloc(sizeof(int) * (n + 1));
	sv.seq = palloc(sizeof(int) * (n + 1));

	solve(&sv);

	memcpy(order, sv.node, sizeof(int) * n);
	if (total_late_s != NULL)
		*total_late_s = sv.late;
	if (total_travel_s != NULL)
		*total_travel_s = sv.travel;

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * Orders a day's stops: order receives the 0-based stop indices in visiting
 * order; the route starts at (start_lat, start_lon) at depart and ends at
 * the last stop.  speed_mps is metres of straight line per second (the
 * detour already applied).  Raises on bad input like womgr._route_order.
 */
void
route_order(double start_lat, double start_lon, TimestampTz depart, const RouteStop *stops, int n,
			double speed_mps, int *order, double *total_late_s, double *total_travel_s)
{
	route_solve(start_lat, start_lon, depart, stops, n, speed_mps, false, 0.0, 0.0,
				order, total_late_s, total_travel_s);
}

/* ---------- womgr._route_order ---------- */

static void
null_arg(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("%s must not be null", what),
			 errdetail("%s", detail),
			 errhint("Pass a value; only the end point and the window bounds may be NULL.")));
}

/* The elements of a 1-D array with lower bound 1 (an empty array has none). */
static void
array_elems(ArrayType *arr, Oid elemtype, const char *name, Datum **elems, bool **nulls, int *count)
{
	if (ARR_NDIM(arr) > 1 || (ARR_NDIM(arr) == 1 && ARR_LBOUND(arr)[0] != 1))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array starting at index 1", name),
				 errdetail("It has %d dimensions%s.", ARR_NDIM(arr),
						   ARR_NDIM(arr) == 1 ? " and starts at another index" : ""),
				 errhint("Pass e.g. ARRAY[...] or array_agg(... ORDER BY ...).")));
	deconstruct_array(arr, elemtype, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, elems, nulls, count);
}

static void
length_error(const char *name, int got, int want, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
			 errmsg("%s has %d elements, not %d", name, got, want),
			 errdetail("%s", why),
			 errhint("Build all the arrays from the same ordered list of stops.")));
}

/* Element i (1-based) of name is NULL; stop is the stop it belongs to (0: the start point). */
static void
null_elem(const char *name, int i, int stop)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("%s must not contain NULL", name),
			 stop == 0 ? errdetail("Element %d (the start point) is NULL.", i) :
			 errdetail("Element %d (stop %d) is NULL.", i, stop),
			 errhint("Every point needs a latitude and a longitude and every stop a service time.")));
}

static TimestampTz
window_bound(Datum *d, bool *nulls, int i, bool is_latest)
{
	TimestampTz t;

	if (nulls[i])
		return is_latest ? DT_NOEND : DT_NOBEGIN;
	t = DatumGetTimestampTz(d[i]);
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the %s start of stop %d must be finite", is_latest ? "latest" : "earliest", i + 1),
				 errdetail("infinity and -infinity are not times of day."),
				 errhint("Leave the bound NULL for a stop without one.")));
	return t;
}

/*
 * womgr._route_order(depart, lat[], lon[], service_s[], earliest[], latest[],
 * detour, speed_kmh [, end_lat, end_lon]): the stops in visiting order with
 * their times, then (with an end point) the way home.
 */
PG_FUNCTION_INFO_V1(womgr_route_order);
Datum
womgr_route_order(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz depart;
	Datum	   *lat_d,
			   *lon_d,
			   *svc_d,
			   *ew_d,
			   *lw_d;
	bool	   *lat_n,
			   *lon_n,
			   *svc_n,
			   *ew_n,
			   *lw_n;
	int			nlat,
				nlon,
				n,
				nsvc,
				n_ew,
				nlw;
	double		detour,
				speed_kmh,
				speed_mps,
				end_lat = 0.0,
				end_lon = 0.0,
				t;
	bool		has_end;
	RouteStop  *stops;
	int		   *order;
	int			prev;

	if (PG_ARGISNULL(0))
		null_arg("the departure time", "p_depart is when the technician leaves the start point.");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		null_arg(PG_ARGISNULL(1) ? "the latitudes" : "the longitudes",
				 "p_lat and p_lon hold the start point, then one point per stop.");
	if (PG_ARGISNULL(3))
		null_arg("the service times", "p_service_s holds one service time in seconds per stop.");
	if (PG_ARGISNULL(4) || PG_ARGISNULL(5))
		null_arg(PG_ARGISNULL(4) ? "the earliest starts" : "the latest starts",
				 "p_earliest and p_latest hold one bound per stop; an element may be NULL, the array may not.");
	if (PG_ARGISNULL(6))
		null_arg("the detour factor", "p_detour is road distance over straight-line distance, at least 1.");
	if (PG_ARGISNULL(7))
		null_arg("the travel speed", "p_speed_kmh is the average road speed in km/h.");
	has_end = !PG_ARGISNULL(8) && !PG_ARGISNULL(9);
	if (PG_ARGISNULL(8) != PG_ARGISNULL(9))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the end point needs both a latitude and a longitude"),
				 errdetail("Only %s was given.", PG_ARGISNULL(8) ? "p_end_lon" : "p_end_lat"),
				 errhint("Pass both for a route that returns to a point, or neither for one that ends at the last stop.")));

	depart = PG_GETARG_TIMESTAMPTZ(0);	/* route_solve() refuses an infinite one */

	array_elems(PG_GETARG_ARRAYTYPE_P(1), FLOAT8OID, "p_lat", &lat_d, &lat_n, &nlat);
	array_elems(PG_GETARG_ARRAYTYPE_P(2), FLOAT8OID, "p_lon", &lon_d, &lon_n, &nlon);
	array_elems(PG_GETARG_ARRAYTYPE_P(3), FLOAT8OID, "p_service_s", &svc_d, &svc_n, &nsvc);
	array_elems(PG_GETARG_ARRAYTYPE_P(4), TIMESTAMPTZOID, "p_earliest", &ew_d, &ew_n, &n_ew);
	array_elems(PG_GETARG_ARRAYTYPE_P(5), TIMESTAMPTZOID, "p_latest", &lw_d, &lw_n, &nlw);
	if (nlat == 0)
		length_error("p_lat", 0, nsvc + 1, "Element 1 of p_lat and p_lon is the start point.");
	n = nlat - 1;
	if (nlon != nlat)
		length_error("p_lon", nlon, nlat, "p_lat and p_lon hold the same points: the start point, then one per stop.");
	if (nsvc != n)
		length_error("p_service_s", nsvc, n, "p_service_s has one element per stop; p_lat and p_lon one more, the start point first.");
	if (n_ew != n)
		length_error("p_earliest", n_ew, n, "p_earliest has one element per stop; p_lat and p_lon one more, the start point first.");
	if (nlw != n)
		length_error("p_latest", nlw, n, "p_latest has one element per stop; p_lat and p_lon one more, the start point first.");
	if (n > ROUTE_MAX_STOPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a route can have at most %d stops, not %d", ROUTE_MAX_STOPS, n),
				 errdetail("The route engine orders one technician's day."),
				 errhint("Split the stops into several routes.")));

	detour = PG_GETARG_FLOAT8(6);
	speed_kmh = PG_GETARG_FLOAT8(7);
	if (isnan(detour) || isinf(detour) || detour < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the detour factor must be a finite number of at least 1, not %g", detour),
				 errdetail("It is road distance over straight-line distance: roads are never shorter."),
				 errhint("1.3 is typical in a city.")));
	if (isnan(speed_kmh) || isinf(speed_kmh) || speed_kmh <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the travel speed must be a positive finite number of km/h, not %g", speed_kmh),
				 errdetail("Travel time is distance times the detour factor over the speed."),
				 errhint("Pass the average road speed, e.g. 25 in city traffic.")));
	speed_mps = speed_kmh / 3.6 / detour;

	for (int i = 0; i < nlat; i++)
	{
		if (lat_n[i])
			null_elem("p_lat", i + 1, i);
		if (lon_n[i])
			null_elem("p_lon", i + 1, i);
	}
	for (int i = 0; i < n; i++)
		if (svc_n[i])
			null_elem("p_service_s", i + 1, i + 1);
	if (has_end)
	{
		end_lat = PG_GETARG_FLOAT8(8);
		end_lon = PG_GETARG_FLOAT8(9);
	}

	stops = palloc(sizeof(RouteStop) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		stops[i].lat = DatumGetFloat8(lat_d[i + 1]);
		stops[i].lon = DatumGetFloat8(lon_d[i + 1]);
		stops[i].service_s = DatumGetFloat8(svc_d[i]);
		stops[i].earliest = window_bound(ew_d, ew_n, i, false);
		stops[i].latest = window_bound(lw_d, lw_n, i, true);
	}
	order = palloc(sizeof(int) * Max(n, 1));
	route_solve(DatumGetFloat8(lat_d[0]), DatumGetFloat8(lon_d[0]), depart, stops, n, speed_mps,
				has_end, end_lat, end_lon, order, NULL, NULL);

	InitMaterializedSRF(fcinfo, 0);
	if (n == 0)
		return (Datum) 0;

	/* the schedule along the order, computed as route_eval does */
	t = 0.0;
	prev = START;
	for (int k = 0; k < n + (has_end ? 1 : 0); k++)
	{
		Datum		values[9];
		bool		nulls[9] = {false};
		int			v = k < n ? order[k] : END;
		double		plat = DatumGetFloat8(lat_d[prev + 1]),
					plon = DatumGetFloat8(lon_d[prev + 1]);
		double		d,
					dist;

		CHECK_FOR_INTERRUPTS();
		values[0] = Int32GetDatum(k + 1);
		if (v == END)
		{
			dist = geo_great_circle_m(plat, plon, end_lat, end_lon);
			d = dist / speed_mps;
			nulls[1] = true;
			values[2] = TimestampTzGetDatum(at_seconds(depart, t + d));
			nulls[3] = nulls[4] = true;
			values[7] = Float8GetDatum(0.0);
			values[8] = Float8GetDatum(0.0);
		}
		else
		{
			double		arr,
						st,
						lw = seconds_after(depart, stops[v].latest);

			dist = geo_great_circle_m(plat, plon, stops[v].lat, stops[v].lon);
			d = dist / speed_mps;
			arr = t + d;
			st = Max(arr, seconds_after(depart, stops[v].earliest));
			t = st + stops[v].service_s;
			values[1] = Int32GetDatum(v + 1);
			values[2] = TimestampTzGetDatum(at_seconds(depart, arr));
			values[3] = TimestampTzGetDatum(at_seconds(depart, st));
			values[4] = TimestampTzGetDatum(at_seconds(depart, t));
			values[7] = Float8GetDatum(st - arr);
			values[8] = Float8GetDatum(st > lw ? st - lw : 0.0);
		}
		values[5] = Float8GetDatum(d);
		values[6] = Float8GetDatum(dist);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		prev = v;
	}
	return (Datum) 0;
}
