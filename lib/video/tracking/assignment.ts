/**
 * Minimum-cost matching of tracks to detections with a cost limit, as ByteTrack does with
 * `lap.lapjv(cost, extend_cost=True, cost_limit=thresh)`: every row and every column may also stay
 * unmatched at a price of limit / 2, so a pair is matched only when its cost is below the limit and
 * the total is the least possible. That is an ordinary square assignment on the matrix
 *
 *     [ cost        limit/2 ]
 *     [ limit/2     0       ]     ((rows + cols) x (rows + cols))
 *
 * solved here by the Hungarian method (shortest augmenting paths with potentials, O(n^3)).
 */

export interface Assignment {
  /** [row, column] pairs. */
  matches: Array<[number, number]>;
  unmatchedRows: number[];
  unmatchedColumns: number[];
}

/**
 * The permutation p (p[row] = column) of least total cost on a square n x n matrix (row-major).
 * Rows are added one at a time; each finds, by Dijkstra-like relaxation with the dual potentials
 * u (rows) and v (columns), the cheapest path to a free column and flips the path.
 */
export function solveSquareAssignment(cost: ArrayLike<number>, n: number): number[] {
  if (n === 0) return [];
  // 1-based internally: column 0 is the virtual start of each augmenting path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOfColumn = new Int32Array(n + 1); // 0 = free
  const previousColumn = new Int32Array(n + 1);
  const minSlack = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let row = 1; row <= n; row++) {
    rowOfColumn[0] = row;
    let column = 0;
    minSlack.fill(Infinity);
    used.fill(0);
    do {
      used[column] = 1;
      const r = rowOfColumn[column];
      let delta = Infinity;
      let nextColumn = 0;
      for (let c = 1; c <= n; c++) {
        if (used[c]) continue;
        const slack = cost[(r - 1) * n + (c - 1)] - u[r] - v[c];
        if (slack < minSlack[c]) {
          minSlack[c] = slack;
          previousColumn[c] = column;
        }
        if (minSlack[c] < delta) {
          delta = minSlack[c];
          nextColumn = c;
        }
      }
      for (let c = 0; c <= n; c++) {
        if (used[c]) {
          u[rowOfColumn[c]] += delta;
          v[c] -= delta;
        } else {
          minSlack[c] -= delta;
        }
      }
      column = nextColumn;
    } while (rowOfColumn[column] !== 0);
    // Flip the augmenting path back to its start.
    do {
      const before = previousColumn[column];
      rowOfColumn[column] = rowOfColumn[before];
      column = before;
    } while (column !== 0);
  }
  const assignment = new Array<number>(n);
  for (let c = 1; c <= n; c++) assignment[rowOfColumn[c] - 1] = c - 1;
  return assignment;
}

/**
 * Match rows to columns of a rows x columns cost matrix (row-major), leaving a row or column
 * unmatched rather than pairing it at a cost above `limit`.
 */
export function assignWithLimit(cost: ArrayLike<number>, rows: number, columns: number, limit: number): Assignment {
  if (rows === 0 || columns === 0) {
    return { matches: [], unmatchedRows: Array.from({ length: rows }, (_, i) => i), unmatchedColumns: Array.from({ length: columns }, (_, i) => i) };
  }
  const n = rows + columns;
  const half = limit / 2;
  const extended = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i < rows && j < columns) {
        const c = cost[i * columns + j];
        // A pair above the limit can never be chosen over leaving both free; keep NaN/Infinity out of the sums.
        extended[i * n + j] = Number.isFinite(c) ? Math.min(c, limit + 1) : limit + 1;
      } else {
        extended[i * n + j] = i >= rows && j >= columns ? 0 : half;
      }
    }
  }
  const permutation = solveSquareAssignment(extended, n);
  const matches: Array<[number, number]> = [];
  const rowMatched = new Uint8Array(rows);
  const columnMatched = new Uint8Array(columns);
  for (let i = 0; i < rows; i++) {
    const j = permutation[i];
    if (j < columns && cost[i * columns + j] <= limit) {
      matches.push([i, j]);
      rowMatched[i] = 1;
      columnMatched[j] = 1;
    }
  }
  return {
    matches,
    unmatchedRows: Array.from({ length: rows }, (_, i) => i).filter((i) => !rowMatched[i]),
    unmatchedColumns: Array.from({ length: columns }, (_, j) => j).filter((j) => !columnMatched[j]),
  };
}
