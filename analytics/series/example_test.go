package series_test

import (
	"fmt"

	"github.com/dohyo/dohyo/analytics/series"
)

// "| sort by _timeslice asc | accum requests by user", over four records.
func ExampleAccum() {
	users := []string{"ann", "bob", "ann", "bob"}
	requests := []series.Value{series.Parse("3"), series.Parse("1"), series.Parse("4"), series.Parse("oops")}
	res, err := series.Accum(requests, users)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Values, res.Issues.Warnings("requests"))
	// Output: [3 1 7 null] [requests: 1 non-numeric value skipped]
}

// "| compare timeshift 1d 3 avg": which queries to run and which columns
// come out.
func ExamplePlanCompare() {
	plan, err := series.PlanCompare([]series.Timeshift{{N: 1, Unit: "d", Count: 3, Agg: series.AggAvg}})
	if err != nil {
		panic(err)
	}
	for _, r := range plan.Runs {
		fmt.Println("run", r.Label, r.Offset)
	}
	fmt.Println(plan.ColumnNames("_count"))
	// Output:
	// run 1d 86400000
	// run 2d 172800000
	// run 3d 259200000
	// [_count_target _count_1d_3_avg]
}

// "| fillmissing timeslice(15m)" over an hour with two slices present.
func ExampleMissingSlices() {
	const m = 60_000
	missing, truncated, err := series.MissingSlices([]int64{0, 30 * m}, 0, 60*m, 15*m, 0, 0)
	fmt.Println(missing, truncated, err)
	// Output: [900000 2700000] false <nil>
}
