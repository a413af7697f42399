// Package logreduce mines log templates ("signatures") from a stream of
// lines: the library behind the logreduce and logcompare operators. It knows
// nothing of queries or HTTP.
//
// # Use
//
//	m := logreduce.New(logreduce.Config{})
//	for _, line := range lines {
//		m.Add(line)
//	}
//	res := m.Result()            // clusters, most interesting first
//	for _, c := range res.Clusters {
//		fmt.Println(c.ID, c.Count, c.Template)
//	}
//	c := res.Assign(line)        // the cluster of any line
//
// Workers can mine disjoint parts of the input and merge their states:
//
//	a.Merge(b)                   // a now holds the state of a ∪ b
//	data, _ := a.MarshalBinary() // to ship a state to another process
//
// # Guarantees
//
//   - Deterministic: the result is a function of the multiset of lines;
//     neither their order nor the way they were split between merged
//     miners changes it (clusters, ids, counts, templates, samples, scores).
//     This holds exactly while the number of distinct skeletons stays within
//     Config.MaxSkeletons; beyond it, see Bounds.
//   - Stable ids: a signature's id is a hash of its canonical template text,
//     so the same template has the same id in every run.
//
// # Algorithm
//
// Stage 1, per line (Add; no allocation once a skeleton is known). The line
// is split into words at white space, and after ',' ';' '|' '{' '[' where a
// key=value, a field or a JSON key follows ("a=1,b=2", "x|y",
// {"a":1,"b":"c"}). Each word keeps its wrapping punctuation and is
// classified by built-in rules that hold for any log (see tokenize.go): it
// is a variable when it contains a digit (numbers, hex ids, IPs, UUIDs,
// versions, timestamps, sizes), is a path, URL or e-mail address, is the
// double-quoted value of a key (tag="View Lock"), or is longer than 96
// bytes; month and weekday names next to other variables are parts of a
// date; a unit after a number is part of the value ("384.0 B"); a run of
// variables with nothing constant between them is one variable (a list of
// ids, a date and time). A variable keeps the key in front of it ("uid=<*>",
// "LOGIN(uid=<*>)", "name":<*>). In the first words of a line, a bracketed
// field with spaces is one word ("[RMCommunicator Allocator]"). The masked
// words form the line's skeleton; the miner counts lines per skeleton (a map
// from a 64-bit hash of the skeleton) and keeps a few sample lines per
// skeleton (the lines with the smallest hashes: a sample that does not
// depend on the order and merges exactly).
//
// Stage 2, on the whole state (Result): skeletons with the same number of
// words are joined into templates where the words that differ look like
// variables — see generalize in group.go for the rules: values that are
// variables elsewhere, many values of the same key, or several lower-case
// free words in a sentence that otherwise stays constant; never the first
// word of a message, which names the event (after a header of timestamps,
// levels, bracketed fields and "component:", so that whole raw lines work as
// well as bare messages). Templates that vary in two places together are
// joined by absorbing specific skeletons into more general templates.
//
// Stage 2 runs on skeletons, not lines, so its cost depends on the number of
// distinct skeletons (thousands), not on the volume of logs.
//
// # Templates
//
// Cluster.Template is the display text: variables are "<*>", with the text
// that the samples share around them ("blk_<*>", "(uid=<*>)");
// Cluster.Parts has the same text in pieces with the variables flagged, for
// highlighting. Cluster.Canonical is the text the id is computed from.
//
// # Order and score
//
// Result.Clusters are sorted ByScore: Score is the mean of rarity
// (ln(total/count)/ln(total)) and severity (error words 1, warning words
// 0.5), from 0 to 100, so rare and error-like templates come first.
// MostCommon and LeastCommon order by count (criteria=mostcommon and
// leastcommon of logreduce).
//
// # Bounds
//
// A Miner keeps at most Config.MaxSkeletons skeletons (default 10,000),
// each with its words (at most Config.MaxTokens words of at most 96 bytes)
// and at most Config.MaxSamples samples of at most Config.MaxSampleBytes
// bytes: about 1 KiB per skeleton for ordinary logs, 13 KiB at worst, so
// 10 MiB typical and 130 MiB at worst with the defaults, whatever the
// volume. Lines are truncated to Config.MaxLineBytes (64 KiB) and to
// MaxTokens words (the rest is one variable), so the work per line is
// bounded. Once the cap is reached, a line whose skeleton is new is counted
// in the overflow cluster (ID OverflowID); known skeletons keep counting.
// Merge keeps the union when it fits, else the skeletons with the largest
// counts (ties: smaller key) and folds the others into the overflow cluster.
// Past the cap the result is still deterministic for a given order and split
// of the input, but no longer independent of them. Stage 2 bounds its
// rounds and the absorption work, so Result takes about a second at worst
// (10,000 skeletons that share nothing) and milliseconds on real logs.
//
// # Compare and keys
//
// Compare mines a baseline and a target together and reports each signature
// as new, gone, more or less frequent, with its change of share and a
// symmetric-KL anomaly score (logcompare). KeySchema and KeyMiner group
// structured events by their set of keys (logreduce keys).
package logreduce
