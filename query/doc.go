// Package query compiles and runs the Sumo Logic query language.
//
// A query goes through four steps, one file (or a few) each:
//
//	text ──lex.go──► tokens ──parse.go──► AST (ast.go) ──plan.go──► Plan ──exec.go──► results
//
// The lexer and parser mirror the shape of Prometheus' promql/parser: a
// hand-written lexer that carries positions (line and column, counted in
// runes) into every token, a recursive-descent parser that reports the first
// error precisely (*Error), and a printer (printer.go) that turns the AST back
// into canonical text, round-trip tested.
//
// The planner decides, per stage, what the storage engine (VictoriaLogs,
// spoken to in LogsQL through store.Store) computes and what runs as Go
// operators. Every stage has a Go implementation; Compile with
// CompileOptions{PushDown: false} runs everything in Go over the raw rows of
// the time range, which the tests use to prove that the pushed-down LogsQL
// gives identical results.
//
// The semantics of the scope (everything before the first "|") are defined
// once, in Go, in scope_match.go; scope_logsql.go translates them into LogsQL
// filters that match exactly the same rows. See scope_match.go for the rules.
//
// Operators live in one file each (op_count.go, later op_parse.go, ...). An
// operator registers its parser hook with registerStage and implements the
// Stage interface (AST, canonical text, compile); compiling returns a
// stageImpl that knows its output columns, its LogsQL pipe when the engine can
// compute it exactly, and its Go operator.
//
// # Adding an operator
//
// An operator (say "where") plugs in without touching the rest:
//
//  1. op_where.go declares WhereStage and implements Stage: Position,
//     String (canonical text, round-trip tested), Name, aggregate,
//     walkFields and compile. Its init calls registerStage("where", hook);
//     the hook parses the stage with the parser's helpers (parseFieldRef,
//     expectStageEnd, fail) and returns the first error precisely.
//  2. compile checks the stage against the schema of its input (messages or
//     records; compiler.resolveField) and returns a stageImpl: its output
//     schema, its LogsQL pipe when the engine gives exactly the Go results
//     (else ok=false, and the stage and everything after it run in Go), its
//     Go operator (a rowSink: push rows, finish) and its Explain text.
//     Aggregates also implement aggregateImpl (groupLimit) and accept the
//     hidden input counter in their pipe.
//  3. testdata/<family>.test gets golden cases, run pushed and all-Go.
//
// An operator that needs data from outside the query and the logs (lookup
// tables, the GeoIP database) gets it from the execution environment,
// ExecOptions.Env (env.go): its stageImpl implements envBinder, and each
// run binds a copy of the plan to the environment before it starts.
//
// The planner pushes stages while the engine can run them, up to and
// including the first aggregate (records are small; Go handles them as well
// as the engine). Non-aggregate queries are run in time windows, newest
// first, which needs the message stages to work row by row (filters and
// extractions). A stage whose result over messages depends on their order
// or changes it (sort, limit, dedup, accum... over messages) implements
// messageOrderer and starts the plan's message tail (exec_tail.go): the
// stages before it still run per window, and the tail is one chain of Go
// operators fed the whole stream in order, delivering in its own order.
//
// A stage that needs other runs of the query (compare re-runs the stages
// before it over earlier time) is bound before each run to a runner of the
// plan's prefix over a shifted range (op_compare.go, Plan.bindPrefixRuns).
//
// A stage the engine computes exactly only on some rows (json "a.b" copies
// the ingest-time field _json.a.b where it exists) implements condPusher;
// the plan pushes it under its condition and the executor checks, before
// running, whether any row fails the condition (pushdown_cond.go). The
// parsing operators (op_parse.go, op_regex.go, op_json.go, op_keyvalue.go,
// op_csv.go, op_split.go) share their option parsing and row setting
// (extraction, in op_parse.go); message rows keep their fields sorted by
// name (setSortedFields), ingest-time JSON fields travel as hidden
// _dohyo.json.<path> fields that never reach the output.
package query
