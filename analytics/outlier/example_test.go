package outlier_test

import (
	"fmt"

	"github.com/dohyo/dohyo/analytics/outlier"
	"github.com/dohyo/dohyo/analytics/series"
)

// One group's hourly counts, the way the outlier operator hands them over:
// "| timeslice 1h | count by _timeslice | outlier _count window=5".
func ExampleDetect() {
	counts := []string{"20", "22", "19", "21", "20", "23", "21", "95", "22", "20"}
	const hour = 3600_000
	var in []series.Point
	for i, c := range counts {
		in = append(in, series.Point{T: int64(i) * hour, V: series.Parse(c)})
	}
	res, err := outlier.Detect(in, outlier.Options{Window: 5})
	if err != nil {
		panic(err)
	}
	for i, p := range res.Points {
		if p.State != outlier.Evaluated {
			fmt.Printf("%s %s\n", counts[i], p.State)
			continue
		}
		fmt.Printf("%s error=%.1f lower=%.1f upper=%.1f indicator=%t violation=%t\n",
			counts[i], p.Error.F, p.Lower.F, p.Upper.F, p.Indicator, p.Violation)
	}
	// Output:
	// 20 warm-up
	// 22 warm-up
	// 19 warm-up
	// 21 error=0.7 lower=15.8 upper=24.9 indicator=false violation=false
	// 20 error=-0.5 lower=16.6 upper=24.4 indicator=false violation=false
	// 23 error=2.6 lower=17.0 upper=23.8 indicator=false violation=false
	// 21 error=0.0 lower=16.3 upper=25.7 indicator=false violation=false
	// 95 error=74.2 lower=16.4 upper=25.2 indicator=true violation=true
	// 22 error=-14.0 lower=-63.0 upper=135.0 indicator=false violation=false
	// 20 error=-16.2 lower=-62.5 upper=134.9 indicator=false violation=false
}
