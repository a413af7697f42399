package query

// The split operator (spec §3.6):
//
//	split <field> [delim='<c>'] [escape='<c>'] [quote='<c>'] extract <columns> [nodrop]
//
// Generic delimited text: "split _raw delim='|' extract 2 as level, 4 as
// msg". It is the csv operator under another name (DelimitedStage,
// op_csv.go): the same defaults (delimiter ",", escape \, quote "), the
// same quoting rules, positions, "_" to skip a column, field=<f> accepted
// besides the bare field name, _raw when no field is given, the same rule
// for dropping (fewer columns than the highest extracted) and no push-down.
//
// Sumo's own examples write the options with single quotes, which the
// lexer reads as strings: delim='|', delim='\t'. A lone backslash or quote
// must be escaped inside them: escape='\\', quote='\'' (Sumo writes '\' and
// ''', which a lexer with escapes cannot read).

func init() {
	registerStage("split", func(p *parser) (Stage, *Error) { return p.parseDelimitedStage("split") })
}
