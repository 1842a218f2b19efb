"""The disclosure audit: what can anyone work out about a hidden figure from everything published?

Pure (NumPy, SciPy; no Django). Every published figure is a linear fact about the unknown true
monthly counts (non-negative): an exact figure is an equality, a "fewer than 5" is a range, a
withheld figure says nothing. For each hidden figure that must stay protected we solve for its
smallest and largest feasible value with linear programming (HiGHS, as shipped with SciPy) and
fail it unless that range still covers the whole target range (1 to 4 under the default policy;
``crimestats.disclosure`` sets it).

Why it is fast enough for all of London:

- the problem splits into independent components (unknowns linked by a figure about several
  of them; an exact month is a constant and links nothing), each a tiny LP;
- a component with no linking figure is solved in closed form, without an LP;
- the true counts are a feasible point, so a cell whose true value already reaches a target end
  needs no LP for that end;
- one LP pushes every open cell towards its target at once (maximise the sum of
  min(cell, target)); every LP solution is a witness that may settle other cells too; only the
  cells still open get an LP of their own, which also proves a failure exactly;
- each component's LP is built once and re-solved with a new objective from the last basis
  (SciPy's own HiGHS bindings; ``engine="linprog"`` goes through ``scipy.optimize.linprog``).

A failing cell comes with the figures that pin it (the support of the LP's dual solution: a
proof of the bound) and the subset whose withholding would loosen the bound, which is what the
secondary suppression in ``crimestats.disclosure`` uses to choose complementary cells.
"""

from collections.abc import Hashable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from math import inf
from time import perf_counter

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

try:  # SciPy's own HiGHS bindings: the same solver linprog calls, without its per-call overhead
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - older or newer SciPy: linprog does the same job
    _highs = None

TOL = 1e-6


@dataclass(frozen=True)
class Known:
    """What the public knows about one published figure: ``lower <= sum(coef * x) <= upper``.

    An exact figure has ``lower == upper``; a "fewer than 5" has ``1 .. 4``. Withheld figures are
    simply not given: they say nothing beyond non-negativity.
    """

    id: Hashable
    terms: tuple[int, ...]
    lower: float
    upper: float
    coefs: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Check:
    """A hidden figure (a linear expression of the unknowns) whose range must cover the target.

    ``low``/``high`` say which ends to test (protection re-tests only the end that failed).
    """

    id: Hashable
    terms: tuple[int, ...]
    coefs: tuple[float, ...] | None = None
    low: bool = True
    high: bool = True
    # This check's own targets, when narrower than the problem's: what earlier releases already
    # made public cannot be undone, so a check need only reach as far as they leave it.
    target: tuple[float, float] | None = None


@dataclass(frozen=True)
class Problem:
    """Everything published about a set of unknowns, and the hidden figures to test."""

    n_unknowns: int
    knowns: Sequence[Known]
    checks: Sequence[Check]
    low: float  # each check's feasible range must reach down to this ...
    high: float  # ... and up to this
    truth: Sequence[float] | None = None  # the true counts: a known feasible point


@dataclass(frozen=True)
class CheckResult:
    """The outcome for one hidden figure.

    ``low`` and ``high`` are feasible values at or beyond the targets when that end passes, and
    the exact smallest / largest feasible value when it fails. ``pinned_by`` are the ids of the
    figures that together prove a failing bound; ``relax`` those whose withholding loosens it.
    """

    id: Hashable
    low: float
    high: float
    passed: bool
    pinned_by: tuple[Hashable, ...] = ()
    relax: tuple[Hashable, ...] = ()
    low_failed: bool = False
    high_failed: bool = False


@dataclass
class AuditReport:
    results: list[CheckResult] = field(default_factory=list)
    lps: int = 0
    seconds: float = 0.0

    @property
    def checked(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def merge(self, other: "AuditReport") -> None:
        self.results.extend(other.results)
        self.lps += other.lps
        self.seconds += other.seconds


# --------------------------------------------------------------------------------------------
# LP engines: minimise cost.x subject to row_lower <= A.x <= row_upper, col_lower <= x <= col_upper.
# Both report duals the same way: d(objective)/d(active bound) for each row and column, and both
# let bounds be loosened between solves (withholding a figure frees its row or column).


@dataclass(frozen=True)
class _Solution:
    x: np.ndarray
    fun: float
    row_dual: np.ndarray
    col_dual: np.ndarray


class _HighsModel:
    """One HiGHS instance, re-solved from its last basis after each change."""

    def __init__(self, a: sparse.csc_array, row_lower, row_upper, col_lower, col_upper):
        self.n = a.shape[1]
        self.highs = _highs._Highs()
        self.highs.setOptionValue("output_flag", False)
        # Between solves only the objective changes, so the last basis stays primal feasible:
        # primal simplex goes on from it (about three times quicker than dual on big pieces).
        self.highs.setOptionValue("simplex_strategy", 4)
        model = _highs.HighsLp()
        model.num_col_, model.num_row_ = self.n, a.shape[0]
        model.col_cost_ = np.zeros(self.n)
        model.col_lower_, model.col_upper_ = col_lower, col_upper
        model.row_lower_, model.row_upper_ = row_lower, row_upper
        matrix = model.a_matrix_
        matrix.format_ = _highs.MatrixFormat.kColwise
        matrix.num_col_, matrix.num_row_ = self.n, a.shape[0]
        matrix.start_, matrix.index_, matrix.value_ = a.indptr, a.indices, a.data
        self.highs.passModel(model)
        self.columns = np.arange(self.n, dtype=np.int32)

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        self.highs.changeRowBounds(row, lower, upper)

    def set_col_bounds(self, col: int, lower: float, upper: float) -> None:
        self.highs.changeColBounds(col, lower, upper)

    def solve(self, cost: np.ndarray) -> _Solution | None:
        self.highs.changeColsCost(self.n, self.columns, cost)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == _highs.HighsModelStatus.kUnbounded:
            return None
        if status != _highs.HighsModelStatus.kOptimal:
            raise RuntimeError(f"audit LP did not solve: {self.highs.modelStatusToString(status)}")
        solution = self.highs.getSolution()
        return _Solution(
            np.asarray(solution.col_value),
            self.highs.getInfo().objective_function_value,
            np.asarray(solution.row_dual),
            np.asarray(solution.col_dual),
        )


class _LinprogModel:
    """The same LP through ``scipy.optimize.linprog(method="highs")`` (public API, slower)."""

    def __init__(self, a: sparse.csc_array, row_lower, row_upper, col_lower, col_upper):
        self.a = a.tocsr()
        self.row_lower, self.row_upper = row_lower.copy(), row_upper.copy()
        self.col_lower, self.col_upper = col_lower.copy(), col_upper.copy()

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        self.row_lower[row], self.row_upper[row] = lower, upper

    def set_col_bounds(self, col: int, lower: float, upper: float) -> None:
        self.col_lower[col], self.col_upper[col] = lower, upper

    def solve(self, cost: np.ndarray) -> _Solution | None:
        lower, upper = self.row_lower, self.row_upper
        eq = np.flatnonzero(np.abs(upper - lower) <= TOL)
        ranged = np.setdiff1d(np.arange(self.a.shape[0]), eq)
        up = ranged[np.isfinite(upper[ranged])]
        down = ranged[np.isfinite(lower[ranged])]
        kwargs = {}
        if eq.size:
            kwargs.update(A_eq=self.a[eq], b_eq=lower[eq])
        if up.size or down.size:
            a_ub = sparse.vstack([self.a[up], -self.a[down]]).tocsr()
            kwargs.update(A_ub=a_ub, b_ub=np.concatenate([upper[up], -lower[down]]))
        bounds = np.column_stack([self.col_lower, self.col_upper])
        result = linprog(cost, bounds=bounds, method="highs", **kwargs)
        if result.status == 3:  # unbounded
            return None
        if result.status != 0:
            raise RuntimeError(f"audit LP did not solve: {result.message}")
        row_dual = np.zeros(self.a.shape[0])
        if eq.size:
            row_dual[eq] = result.eqlin.marginals
        if up.size or down.size:
            y = result.ineqlin.marginals
            row_dual[up] += y[: up.size]
            row_dual[down] -= y[up.size :]  # -a.x <= -lower: d/d(lower) is minus its marginal
        col_dual = result.lower.marginals + result.upper.marginals
        return _Solution(result.x, result.fun, row_dual, col_dual)


def _engine(name: str):
    if name == "auto":
        return _HighsModel if _highs is not None else _LinprogModel
    return {"highs": _HighsModel, "linprog": _LinprogModel}[name]


def _coo(entries, shape) -> sparse.coo_array:
    if not entries:
        return sparse.coo_array(shape)
    rows, cols, data = (np.concatenate(parts) for parts in zip(*entries, strict=True))
    rows, cols = rows.astype(np.int32), cols.astype(np.int32)
    return sparse.coo_array((data, (rows, cols)), shape=shape)


def _dense_if_small(matrix: sparse.csr_array, limit: int = 20_000):
    return matrix.toarray() if matrix.shape[0] * matrix.shape[1] <= limit else matrix


def _coefs(terms: tuple[int, ...], coefs: tuple[float, ...] | None) -> np.ndarray:
    return np.ones(len(terms)) if coefs is None else np.asarray(coefs, dtype=float)


def _unique(ids: list) -> tuple:
    return tuple(dict.fromkeys(ids))


# --------------------------------------------------------------------------------------------
# The auditor of one connected set of figures.


class Auditor:
    """Audits one problem and can re-test after figures are withheld, reusing its LP.

    Columns: the unknowns, then for each check an auxiliary t <= min(check, high) and
    s >= max(check, low). Maximising t (or minimising s) pushes a check towards its target
    without letting one check's surplus hide another's shortfall, so one solve can settle many
    checks; for a lone check, t (or s) is its exact extreme when short of the target. Rows: the
    figures about several unknowns; a figure about one unknown is a bound on its column.
    Withholding only loosens bounds, so every earlier solution stays feasible: its values are
    kept as witnesses, and a check end that passed stays passed.
    """

    def __init__(self, problem: Problem, *, engine: str = "auto"):
        self.problem = problem
        used = {t for k in problem.knowns for t in k.terms}
        used |= {t for c in problem.checks for t in c.terms}
        self.vars = np.array(sorted(used), dtype=np.int64)
        n, k = self.vars.size, len(problem.checks)
        self.n, self.k = n, k
        self.single: dict[Hashable, tuple[int, float, float]] = {}  # id -> (column, lo, hi)
        self.on_column: dict[int, list[Hashable]] = {}
        self.row_of: dict[Hashable, int] = {}
        rows: list[Known] = []
        for known in problem.knowns:
            c = _coefs(known.terms, known.coefs)
            if len(known.terms) == 1 and c[0] != 0:
                lo, hi = sorted((known.lower / c[0], known.upper / c[0]))
                col = self._local(known.terms)[0]
                self.single[known.id] = (int(col), lo, hi)
                self.on_column.setdefault(int(col), []).append(known.id)
            else:
                self.row_of[known.id] = len(rows)
                rows.append(known)
        self.rows = rows
        self.col_lower, self.col_upper = np.zeros(n), np.full(n, inf)
        for col in self.on_column:
            self._refresh_column(col)
        if np.any(self.col_lower > self.col_upper + TOL):
            bad = int(np.argmax(self.col_lower > self.col_upper + TOL))
            raise ValueError(f"published figures contradict each other: {self.on_column[bad]}")
        m = len(rows)
        entries = [
            (np.full(len(r.terms), i), self._local(r.terms), _coefs(r.terms, r.coefs))
            for i, r in enumerate(rows)
        ]
        self.row_matrix = _coo(entries, (m, n)).tocsr()
        check_entries = [
            (np.full(len(c.terms), j), self._local(c.terms), _coefs(c.terms, c.coefs))
            for j, c in enumerate(problem.checks)
        ]
        self.check_matrix = _coo(check_entries, (k, n)).tocsr()
        # Dense copies for the products done after every solve (quicker when small).
        self.check_dense = _dense_if_small(self.check_matrix)
        self.row_dense = _dense_if_small(self.row_matrix)
        self.wants = {
            True: np.array([c.high for c in problem.checks], dtype=bool),
            False: np.array([c.low for c in problem.checks], dtype=bool),
        }
        self.target_low = np.array(
            [c.target[0] if c.target else problem.low for c in problem.checks], dtype=float
        )
        self.target_high = np.array(
            [c.target[1] if c.target else problem.high for c in problem.checks], dtype=float
        )
        self.lows, self.highs = np.full(k, inf), np.full(k, -inf)
        self.points: list[np.ndarray] = []  # feasible points seen (witnesses), over the unknowns
        if problem.truth is not None:
            self._check_truth(np.asarray(problem.truth, dtype=float)[self.vars])
        self.model = self._build(engine) if m else None
        # The same rows without the checks' auxiliary columns, for a lone check's exact extreme:
        # a much smaller LP when a component holds many checks.
        self.plain = self._build_plain(engine) if m and k > 1 else None
        self.lps = self.runs = 0

    def _local(self, terms) -> np.ndarray:
        return np.searchsorted(self.vars, np.asarray(terms, dtype=np.int64))

    def _refresh_column(self, col: int) -> None:
        """A column's bounds: the tightest of its figures still published, else x >= 0."""
        ids = self.on_column.get(col, [])
        self.col_lower[col] = max([0.0] + [self.single[i][1] for i in ids])
        self.col_upper[col] = min([inf] + [self.single[i][2] for i in ids])

    def _check_truth(self, truth: np.ndarray) -> None:
        """The true counts must satisfy everything published, or the figures were built wrongly."""
        bad = (truth < self.col_lower - TOL) | (truth > self.col_upper + TOL)
        if bad.any():
            col = int(np.argmax(bad))
            raise ValueError(f"true counts contradict published figures {self.on_column[col]}")
        activity = self.row_matrix @ truth
        for i, row in enumerate(self.rows):
            if not row.lower - TOL <= activity[i] <= row.upper + TOL:
                raise ValueError(f"true counts contradict published figure {row.id!r}")
        self._witness(truth)

    def _build(self, engine):
        k, m, n = self.k, len(self.rows), self.n
        rows, checks = self.row_matrix.tocoo(), self.check_matrix.tocoo()
        aux = np.arange(k)
        # t - a.x <= 0  (t <= check);  a.x - s <= 0  (s >= check)
        entries = [
            (rows.row, rows.col, rows.data),
            (m + checks.row, checks.col, -checks.data),
            (m + aux, n + aux, np.ones(k)),
            (m + k + checks.row, checks.col, checks.data),
            (m + k + aux, n + k + aux, -np.ones(k)),
        ]
        a = _coo(entries, (m + 2 * k, n + 2 * k)).tocsc()
        row_lower = np.concatenate([[r.lower for r in self.rows], np.full(2 * k, -inf)])
        row_upper = np.concatenate([[r.upper for r in self.rows], np.zeros(2 * k)])
        col_lower = np.concatenate([self.col_lower, np.full(k, -inf), self.target_low])
        col_upper = np.concatenate([self.col_upper, self.target_high, np.full(k, inf)])
        return _engine(engine)(a, row_lower, row_upper, col_lower, col_upper)

    def _build_plain(self, engine):
        a = self.row_matrix.tocsc()
        row_lower = np.array([r.lower for r in self.rows], dtype=float)
        row_upper = np.array([r.upper for r in self.rows], dtype=float)
        lower, upper = self.col_lower.copy(), self.col_upper.copy()
        return _engine(engine)(a, row_lower, row_upper, lower, upper)

    # -- changes ------------------------------------------------------------------------------

    def withhold(self, known_id: Hashable) -> None:
        """Forget a published figure: its row no longer binds, or its column's bound goes.
        Earlier solutions stay feasible, so their witness values still count."""
        self._publish(known_id, False)

    def restore(self, known_id: Hashable) -> None:
        """Publish a withheld figure again. The feasible set shrinks, so only the witnesses
        that satisfy the figure still count."""
        self._publish(known_id, True)
        points = np.array(self.points).reshape(-1, self.n)
        if known_id in self.row_of:
            row = self.rows[self.row_of[known_id]]
            activity = points @ self.row_matrix[[self.row_of[known_id]]].toarray()[0]
            keep = (activity >= row.lower - TOL) & (activity <= row.upper + TOL)
        else:
            col, lo, hi = self.single[known_id]
            keep = (points[:, col] >= lo - TOL) & (points[:, col] <= hi + TOL)
        self.points = [p for p, k in zip(self.points, keep, strict=True) if k]
        self.lows, self.highs = np.full(self.k, inf), np.full(self.k, -inf)
        for point in self.points:
            self._witness(point, keep=False)

    def _publish(self, known_id: Hashable, published: bool) -> None:
        if known_id in self.row_of:
            i = self.row_of[known_id]
            row = self.rows[i]
            lower, upper = (row.lower, row.upper) if published else (-inf, inf)
            for model in (self.model, self.plain):
                if model is not None:
                    model.set_row_bounds(i, lower, upper)
        elif known_id in self.single:
            col = self.single[known_id][0]
            ids = self.on_column[col]
            if published and known_id not in ids:
                ids.append(known_id)
            elif not published and known_id in ids:
                ids.remove(known_id)
            self._refresh_column(col)
            for model in (self.model, self.plain):
                if model is not None:
                    model.set_col_bounds(col, self.col_lower[col], self.col_upper[col])

    # -- solving ------------------------------------------------------------------------------

    def _witness(self, x: np.ndarray, *, keep: bool = True) -> None:
        values = self.check_dense @ x[: self.n]
        if keep and (np.any(values < self.lows) or np.any(values > self.highs)):
            self.points.append(np.array(x[: self.n]))
        np.minimum(self.lows, values, out=self.lows)
        np.maximum(self.highs, values, out=self.highs)

    def _reached(self, maximise: bool) -> np.ndarray:
        if maximise:
            return self.highs >= self.target_high - TOL
        return self.lows <= self.target_low + TOL

    def _solve(self, checks: np.ndarray, maximise: bool) -> _Solution | None:
        if checks.size == 1 and self.plain is not None:
            return self._solve_alone(int(checks[0]), maximise)
        cost = np.zeros(self.n + 2 * self.k)
        offset = self.n if maximise else self.n + self.k
        cost[offset + checks] = -1.0 if maximise else 1.0
        self.lps += 1
        solution = self.model.solve(cost)
        self._witness(solution.x)
        return solution

    def _solve_alone(self, j: int, maximise: bool) -> _Solution | None:
        """One check's exact extreme on the rows alone; None when it is unbounded above (then
        it reaches any target)."""
        row = self.check_matrix[[j]].toarray()[0]
        self.lps += 1
        solution = self.plain.solve(-row if maximise else row)
        if solution is None:
            self.highs[j] = inf
            return None
        self._witness(solution.x)
        return solution

    def run(
        self, checks: Sequence[int] | None = None, *, low: bool = True, high: bool = True
    ) -> list[CheckResult]:
        """Test the given checks (positions in the problem; default all) at the given ends."""
        self.runs += 1
        index = np.arange(self.k) if checks is None else np.asarray(checks, dtype=np.int64)
        short = {True: np.zeros(self.k, dtype=bool), False: np.zeros(self.k, dtype=bool)}
        proofs: dict[int, tuple[list, list]] = {}
        for maximise, asked in [(True, high), (False, low)]:
            if asked:
                self._settle(index, maximise, short[maximise], proofs, stop=False)
        results = []
        for j in index:
            check = self.problem.checks[j]
            pinned, relax = proofs.get(int(j), ([], []))
            low_failed, high_failed = bool(short[False][j]), bool(short[True][j])
            results.append(
                CheckResult(
                    check.id,
                    float(self.lows[j]),
                    float(self.highs[j]),
                    not (low_failed or high_failed),
                    _unique(pinned),
                    _unique(relax),
                    low_failed,
                    high_failed,
                )
            )
        return results

    def unsettled(self) -> list[int]:
        """The checks that witnesses and batch LPs alone cannot settle at some end: the only
        ones that may fail (each needs an LP of its own to tell, and to prove it)."""
        self.runs += 1
        index = np.arange(self.k)
        open_ = np.zeros(self.k, dtype=bool)
        for maximise in (True, False):
            self._settle(
                index, maximise, np.zeros(self.k, dtype=bool), {}, stop=True, batch_only=True
            )
            open_ |= self.wants[maximise] & ~self._reached(maximise)
        return np.flatnonzero(open_).tolist()

    def passes(self, checks: Sequence[int] | None = None) -> bool:
        """Whether the given checks (default all) all pass, stopping at the first failure."""
        self.runs += 1
        index = np.arange(self.k) if checks is None else np.asarray(checks, dtype=np.int64)
        return all(
            self._settle(index, maximise, np.zeros(self.k, dtype=bool), {}, stop=True)
            for maximise in (True, False)
        )

    def _settle(
        self,
        index,
        maximise: bool,
        short: np.ndarray,
        proofs: dict,
        stop: bool,
        batch_only: bool = False,
    ) -> bool:
        """Settle one end of the given checks: witnesses, then batch LPs, then single LPs.
        Marks failures in ``short`` with their proofs; returns False if it stopped at one."""
        todo = np.zeros(self.k, dtype=bool)
        todo[index] = True
        todo &= self.wants[maximise]
        if self.model is None:
            short |= todo & ~self._box_reached(maximise)
            for j in np.flatnonzero(short):
                self._add_proof(proofs, int(j), self._box_proof(int(j), maximise))
            return not (stop and short.any())
        batch = True
        while True:
            open_ = np.flatnonzero(todo & ~self._reached(maximise) & ~short)
            if not open_.size:
                return True
            if batch and open_.size > 1:
                before = int(self._reached(maximise).sum())
                self._solve(open_, maximise)
                batch = int(self._reached(maximise).sum()) > before
                continue
            if batch_only:
                return True
            j = int(open_[0])
            solution = self._solve(open_[:1], maximise)  # optimal for j: its exact extreme
            if not self._reached(maximise)[j]:
                if stop:
                    return False
                short[j] = True
                self._add_proof(proofs, j, self._proof(solution))

    @staticmethod
    def _add_proof(proofs: dict, j: int, proof: tuple[list, list]) -> None:
        old = proofs.get(j, ([], []))
        proofs[j] = (old[0] + proof[0], old[1] + proof[1])

    def _proof(self, solution: _Solution) -> tuple[list, list]:
        """The figures behind a failing bound (dual support) and those whose withholding helps.

        The objective is minimised: loosening a bound helps when the dual says raising it would
        lower the objective (always possible once withheld), or lowering it would, provided
        the value can go lower (it is above zero now).
        """
        pinned, relax = [], []
        m = len(self.rows)
        activity = self.row_dense @ solution.x[: self.n]
        for i in np.flatnonzero(np.abs(solution.row_dual[:m]) > TOL):
            row = self.rows[i]
            pinned.append(row.id)
            if solution.row_dual[i] < 0 or activity[i] > TOL:
                relax.append(row.id)
        for col in np.flatnonzero(np.abs(solution.col_dual[: self.n]) > TOL):
            dual, value = solution.col_dual[col], solution.x[col]
            ids = self._binding(int(col), lower=dual > 0)
            pinned += ids
            if dual < 0 or value > TOL:
                relax += ids
        return pinned, relax

    def _binding(self, col: int, *, lower: bool) -> list[Hashable]:
        """The figures that set a column's active bound."""
        bound = self.col_lower[col] if lower else self.col_upper[col]
        side = 1 if lower else 2
        ids = self.on_column.get(col, [])
        return [i for i in ids if abs(self.single[i][side] - bound) <= TOL]

    # -- no rows: box bounds alone ------------------------------------------------------------

    def _box_range(self) -> tuple[np.ndarray, np.ndarray]:
        c = self.check_matrix
        pos, neg = c.maximum(0), c.minimum(0)
        with np.errstate(invalid="ignore"):
            lower = pos @ self.col_lower + neg @ np.nan_to_num(self.col_upper, posinf=1e300)
            upper = pos @ np.nan_to_num(self.col_upper, posinf=1e300) + neg @ self.col_lower
        return lower, upper

    def _box_reached(self, maximise: bool) -> np.ndarray:
        lower, upper = self._box_range()
        self.lows, self.highs = np.minimum(self.lows, lower), np.maximum(self.highs, upper)
        return self._reached(maximise)

    def _box_proof(self, j: int, maximise: bool) -> tuple[list, list]:
        row = self.check_matrix[[j]]
        pinned, relax = [], []
        for col, coef in zip(row.indices, row.data, strict=True):
            lower = (coef > 0) != maximise  # the bound that limits this end
            ids = self._binding(int(col), lower=lower)
            pinned += ids
            if not lower or self.col_lower[col] > TOL:
                relax += ids
        return pinned, relax


# --------------------------------------------------------------------------------------------
# Splitting a problem into independent components.


def split(problem: Problem, *, through_fixed: bool = False) -> list[Problem]:
    """The independent parts of a problem that hold checks, each with the figures it needs.

    Unknowns are linked by a figure or check about several of them. A figure that fixes one
    unknown (an exact month) makes it a constant, which links nothing, unless
    ``through_fixed``: protection needs that, since withholding the figure frees the unknown.
    """
    n = problem.n_unknowns
    lower, upper = np.zeros(n), np.full(n, inf)
    singles: dict[int, list[Known]] = {}
    multi: list[Known] = []
    for known in problem.knowns:
        c = _coefs(known.terms, known.coefs)
        if len(known.terms) == 1 and c[0] != 0:
            lo, hi = sorted((known.lower / c[0], known.upper / c[0]))
            var = known.terms[0]
            lower[var], upper[var] = max(lower[var], lo), min(upper[var], hi)
            singles.setdefault(var, []).append(known)
        else:
            multi.append(known)
    fixed = np.zeros(n, dtype=bool) if through_fixed else upper - lower <= TOL

    def free(terms) -> np.ndarray:
        terms = np.asarray(terms, dtype=np.int64)
        return terms[~fixed[terms]]

    linked = [free(k.terms) for k in multi] + [free(c.terms) for c in problem.checks]
    heads = [f[:-1] for f in linked if f.size > 1]
    tails = [f[1:] for f in linked if f.size > 1]
    if heads:
        h, t = np.concatenate(heads), np.concatenate(tails)
        graph = sparse.coo_array((np.ones(h.size), (h, t)), shape=(n, n))
    else:
        graph = sparse.coo_array((n, n))
    _, labels = connected_components(graph, directed=False)

    def label(terms) -> int:
        f = free(terms)
        return int(labels[f[0]]) if f.size else -1 - int(terms[0])  # all fixed: on its own

    parts: dict[int, tuple[list[Known], list[Check]]] = {}
    for check in problem.checks:
        parts.setdefault(label(check.terms), ([], []))[1].append(check)
    for known in multi:
        part = parts.get(label(known.terms))
        if part is not None:
            part[0].append(known)
    result = []
    for known_list, checks in parts.values():
        used = {t for k in known_list for t in k.terms} | {t for c in checks for t in c.terms}
        bounds = [k for var in sorted(used) for k in singles.get(var, [])]
        result.append(replace(problem, knowns=bounds + known_list, checks=checks))
    return result


def audit(problem: Problem, *, engine: str = "auto") -> AuditReport:
    """Solve for every check's feasible range; see the module docstring.

    ``engine``: "highs" (SciPy's HiGHS bindings, reusing each component's model), "linprog"
    (``scipy.optimize.linprog(method="highs")``), or "auto" (the first when available).
    """
    started = perf_counter()
    report = AuditReport()
    order = {id(c): i for i, c in enumerate(problem.checks)}
    results: dict[int, CheckResult] = {}
    for part in split(problem):
        auditor = Auditor(part, engine=engine)
        for check, result in zip(part.checks, auditor.run(), strict=True):
            results[order[id(check)]] = result
        report.lps += auditor.lps
    report.results = [results[i] for i in range(len(problem.checks))]
    report.seconds = perf_counter() - started
    return report


def audit_many(
    problems: Sequence[Problem], *, workers: int = 1, engine: str = "auto"
) -> AuditReport:
    """Audit independent problems (e.g. one per borough and category), in parallel if asked."""
    total = AuditReport()
    started = perf_counter()
    if workers <= 1:
        for problem in problems:
            total.merge(audit(problem, engine=engine))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunk = max(1, len(problems) // (workers * 8))
            engines = [engine] * len(problems)
            for report in pool.map(_audit_one, problems, engines, chunksize=chunk):
                total.merge(report)
    total.seconds = perf_counter() - started
    return total


def _audit_one(problem: Problem, engine: str) -> AuditReport:
    return audit(problem, engine=engine)
