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
// The planner pushes stages while the engine can run them, up to and
// including the first aggregate (records are small; Go handles them as well
// as the engine). Non-aggregate queries are run in time windows, newest
// first, which needs the message stages to work row by row (filters and
// extractions); a stage that reorders or limits messages (sort, limit, dedup
// over messages) will need the whole range in one window.
package query
