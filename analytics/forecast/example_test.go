package forecast_test

import (
	"fmt"

	"github.com/dohyo/dohyo/analytics/forecast"
	"github.com/dohyo/dohyo/analytics/series"
)

// "| timeslice 1m | count by _timeslice | predict _count by 1m forecast=2",
// with one slice missing.
func ExamplePredict() {
	const minute = 60_000
	in := []series.Point{
		{T: 0, V: series.Num(10)},
		{T: 1 * minute, V: series.Num(12)},
		{T: 2 * minute, V: series.Num(14)},
		// 3m has no row: treated as 0, with a warning
		{T: 4 * minute, V: series.Num(18)},
	}
	res, err := forecast.Predict(in, forecast.Options{Step: minute, Forecast: 2})
	if err != nil {
		panic(err)
	}
	for _, p := range res.Points {
		fmt.Printf("t=%dm predicted=%.1f error=%.1f\n", p.T/minute, p.Predicted.F, p.Error.F)
	}
	for _, p := range res.Future {
		fmt.Printf("t=%dm predicted=%.1f\n", p.T/minute, p.Predicted.F)
	}
	fmt.Println(res.Warnings)
	// Output:
	// t=0m predicted=10.0 error=0.0
	// t=1m predicted=10.4 error=-1.6
	// t=2m predicted=10.8 error=-3.2
	// t=4m predicted=11.6 error=-6.4
	// t=5m predicted=12.0
	// t=6m predicted=12.4
	// [predict: 1 missing timeslice treated as 0; use fillmissing to choose their values]
}
