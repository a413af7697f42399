// Package series holds the time-series toolbox behind the Sumo query
// language's record operators: the value type every analytics package shares
// (a number that may be missing or not a number at all), a rolling window of
// mean and standard deviation, the row-window operators of spec §6 (accum,
// diff, total, rollingstd, smooth, backshift), the timeslice helpers of
// fillmissing (§6.1) and the pure computation behind compare's timeshift
// columns (§10.1).
//
// The package knows nothing of queries, rows or HTTP: the operators in
// query/ turn field values into Values (Parse, Num), split rows into groups
// (the operators' "by" keys) and copy the results back into fields under the
// names the operator chooses. outlier detection and forecasting live next
// door in analytics/outlier and analytics/forecast and take the same Values.
//
// # Values
//
// A Value is a float64 with a Kind: Null (absent or null field), Number (a
// finite float64) or Invalid (present but not a finite number: a string that
// does not parse, NaN, ±Inf). Every function here skips Null and Invalid
// inputs, counts them in an Issues value (Invalid ones are worth a warning,
// as Sumo warns on non-numeric values in aggregates) and never returns a
// NaN or an infinity: an output that cannot be computed, or overflows, is
// Null.
//
// # Row operators
//
// The row operators run over the rows in the order given (the operator sorts
// first, normally by _timeslice ascending), separately for each group: the
// groups slice gives each row's group key (nil means one group). A row whose
// value is Null or Invalid is skipped, as Sumo documents for accum and diff:
// its output is Null and it does not touch the group's state, so diff takes
// the difference to the previous numeric row, and the windows of smooth,
// rollingstd and backshift count numeric data points, not rows. Exact rules
// per function:
//
//   - Accum: running sum of the group's numeric values up to and including
//     the row.
//   - Diff: the row's value minus the previous numeric value of the group;
//     Null for the group's first numeric row.
//   - Total: the sum of all numeric values of the group, on every row of the
//     group (skipped rows included); Null when the group has no numeric value.
//   - Smooth: mean of the last window numeric values of the group, the row's
//     own included; the first window-1 rows use the values available.
//   - RollingStd: sample standard deviation (n-1) over the same window; a
//     single value gives 0, as Sumo documents.
//   - Backshift: the numeric value shift data points earlier in the group;
//     Null for the first shift numeric rows.
//
// Windows and shifts run from 1 to MaxWindow (1000, Sumo's documented
// maximum).
package series
