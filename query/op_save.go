package query

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// The save operator (spec §8.2) writes the query's results into a lookup
// table:
//
//	save path://"/Library/Users/me/admins"      replace the table's rows
//	save append path://"..."                     merge by primary key (upsert)
//	save /shared/aws/cloudtrail/admin_users      classic form (same table names
//	                                             as lookup, NormalizeLookupName)
//
// Semantics:
//   - save must be the last stage (Sumo does not run operators after it;
//     dohyo says so rather than ignore them). It passes its input through
//     unchanged: the query returns the results it saved.
//   - It writes what the query delivers, once the query finished without
//     error: the records of an aggregate query, or the messages of a
//     non-aggregate one (at most as many as the run delivers, e.g. a search
//     job's message limit). A message is saved with its fields besides the
//     built-in ones (_raw, _messageTime, _sourceCategory, ...).
//   - An existing table keeps its schema: result columns it lacks are
//     dropped, and a table column missing from the results is an error
//     (Sumo's rule); values must suit the column types.
//   - A table that does not exist is created (a deviation: Sumo needs the
//     table created first). Its columns are the result's fields (typed long,
//     double or string from the field types), and its primary key is the
//     key fields of the records (the "by" fields of the aggregate) or, for
//     records without key fields and for messages, all columns.
//   - It runs only when the query is executed: parsing, checking
//     ("dohyo query check"), explaining and the histogram never write.
//     Writing needs Env.AllowSave (the server grants it to admins) and the
//     catalog's lookup store; the table's size limit applies.
//   - Go only (the engine cannot write tables); the stages before save are
//     pushed down as usual.

func init() { registerStage("save", (*parser).parseSave) }

// SaveStage is "save [append] <table>".
type SaveStage struct {
	Pos    Pos
	Append bool
	Table  LookupSource
}

// Position implements Node.
func (s *SaveStage) Position() Pos { return s.Pos }

// Name implements Stage.
func (s *SaveStage) Name() string { return "save" }

func (s *SaveStage) aggregate() bool           { return false }
func (s *SaveStage) walkFields(func(FieldRef)) {}

// String implements Node.
func (s *SaveStage) String() string {
	if s.Append {
		return "save append " + s.Table.String()
	}
	return "save " + s.Table.String()
}

// parseSave parses a save stage; the current token is "save".
func (p *parser) parseSave() (Stage, *Error) {
	st := &SaveStage{Pos: p.tok.pos}
	p.advance()
	if p.isWord("append") {
		t := p.tok
		p.advance()
		if p.tok.typ == tokPipe || p.tok.typ == tokEOF {
			// "save append": a table named append.
			st.Table = LookupSource{Pos: t.pos, Table: "/append"}
		} else {
			st.Append = true
		}
	}
	if st.Table.Table == "" {
		if p.tok.typ == tokPipe || p.tok.typ == tokEOF {
			return nil, p.fail(`expected the lookup table to save to (path://"<path>")`)
		}
		src, err := p.parseTableRef("save")
		if err != nil {
			return nil, err
		}
		st.Table = src
	}
	if p.tok.typ == tokPipe {
		return nil, errorf(p.tok.pos, "operators after save are not run").
			withHint("save must be the last stage of the query")
	}
	if err := p.expectStageEnd("save"); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *SaveStage) compile(c *compiler, in *schema) (stageImpl, *Error) {
	return &saveImpl{stage: s, in: in}, nil
}

// saveImpl is a compiled save: a pass-through operator; the writing is
// done by the saveAction that binding installs for Execute.
type saveImpl struct {
	stage *SaveStage
	in    *schema
}

func (s *saveImpl) output() *schema                  { return s.in }
func (s *saveImpl) aggregate() bool                  { return false }
func (s *saveImpl) logsQL(string) (string, bool)     { return "", false }
func (s *saveImpl) explain() string                  { return s.stage.String() + " (after the query finished)" }
func (s *saveImpl) newOperator(next rowSink) rowSink { return next }

func (s *saveImpl) bind(_ context.Context, b *binding) (stageImpl, error) {
	if b.env.Lookups == nil {
		return nil, errorf(s.stage.Pos, "save: lookup tables are not available here")
	}
	if !b.env.AllowSave {
		return nil, errorf(s.stage.Pos, "save: you may not write lookup tables").
			withHint("writing lookup tables needs the admin role")
	}
	if b.execute {
		b.save = &saveAction{stage: s.stage, store: b.env.Lookups, user: b.env.User}
	}
	return s, nil
}

// maxSaveBytes bounds the results a save holds before writing them.
const maxSaveBytes = 512 << 20

// saveAction collects what the query delivers and writes it at the end.
type saveAction struct {
	stage   *SaveStage
	store   LookupStore
	user    string
	records bool
	fields  []FieldInfo
	rows    []Row
	bytes   int64
}

// tee returns a sink that records what passes to next.
func (a *saveAction) tee(next Sink) Sink { return &saveSink{a: a, next: next} }

type saveSink struct {
	a    *saveAction
	next Sink
}

func (s *saveSink) add(rows []Row) error {
	for _, r := range rows {
		for _, f := range r {
			s.a.bytes += int64(len(f.Name) + len(f.Value))
		}
	}
	if s.a.bytes > maxSaveBytes {
		return fmt.Errorf("%s: save: the results are over %d MiB; narrow the query", s.a.stage.Pos, maxSaveBytes>>20)
	}
	s.a.rows = append(s.a.rows, rows...)
	return nil
}

func (s *saveSink) Messages(rows []Row) error {
	if err := s.add(rows); err != nil {
		return err
	}
	return s.next.Messages(rows)
}

func (s *saveSink) Records(fields []FieldInfo, rows []Row) error {
	s.a.records = true
	s.a.fields = fields
	if err := s.add(rows); err != nil {
		return err
	}
	return s.next.Records(fields, rows)
}

// commit writes the collected results.
func (a *saveAction) commit(ctx context.Context) error {
	sv := &LookupSave{Name: a.stage.Table.Table, Append: a.stage.Append, User: a.user}
	if a.records {
		for _, f := range a.fields {
			sv.Columns = append(sv.Columns, strings.ToLower(f.Name))
			sv.Types = append(sv.Types, f.Type)
			if f.KeyField {
				sv.PrimaryKey = append(sv.PrimaryKey, strings.ToLower(f.Name))
			}
		}
		for _, r := range a.rows {
			vals := make([]string, len(a.fields))
			for i, f := range a.fields {
				if i < len(r) && r[i].Name == f.Name {
					vals[i] = r[i].Value
				} else {
					vals[i] = r.Get(f.Name)
				}
			}
			sv.Rows = append(sv.Rows, vals)
		}
	} else {
		seen := map[string]bool{}
		for _, r := range a.rows {
			for _, f := range r {
				if !strings.HasPrefix(f.Name, "_") && !seen[f.Name] {
					seen[f.Name] = true
					sv.Columns = append(sv.Columns, f.Name)
				}
			}
		}
		if len(sv.Columns) == 0 && len(a.rows) > 0 {
			return errorf(a.stage.Pos, "save: the messages have no fields to save besides the built-in ones").
				withHint("extract fields first (parse, json, ...) or save the records of an aggregate")
		}
		sort.Strings(sv.Columns)
		for range sv.Columns {
			sv.Types = append(sv.Types, "string")
		}
		for _, r := range a.rows {
			vals := make([]string, len(sv.Columns))
			for i, c := range sv.Columns {
				vals[i] = r.Get(c)
			}
			sv.Rows = append(sv.Rows, vals)
		}
	}
	if len(sv.PrimaryKey) == 0 {
		sv.PrimaryKey = append([]string(nil), sv.Columns...)
	}
	if err := a.store.SaveLookup(ctx, sv); err != nil {
		return fmt.Errorf("%s: save to lookup table %q: %w", a.stage.Pos, sv.Name, err)
	}
	return nil
}
