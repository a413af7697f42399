package series

import (
	"fmt"
	"math"
	"sort"
)

// MaxFill is the number of values a fillmissing generator may enumerate
// (and the number of combinations of several generators): Sumo's limit,
// the same as the group limit of an aggregate. Beyond it the extra values
// are left out and the operator warns.
const MaxFill = 10000

// Slices returns the starts of the timeslices of the given width (epoch
// milliseconds) that overlap [start, end): every s with s < end and
// s+width > start, where the slices are aligned so that s-offset is a
// multiple of width. offset is 0 for slices aligned to UTC (all widths up
// to an hour, and days in UTC); a query in another time zone passes the
// zone's offset from UTC, negated, in milliseconds (a day in UTC+2 starts at
// 22:00 UTC, offset -2h) so that days start at local midnight.
//
// At most limit slices are returned (limit <= 0 means MaxFill); truncated
// says whether some were left out. An empty or reversed range gives none.
func Slices(start, end, width, offset int64, limit int) (slices []int64, truncated bool, err error) {
	if width <= 0 {
		return nil, false, fmt.Errorf("fillmissing: timeslice width must be positive, got %dms", width)
	}
	if end <= start {
		return nil, false, nil
	}
	return SlicesFunc(floorTo(start, width, offset), end, func(s int64) int64 {
		if s > math.MaxInt64-width {
			return math.MaxInt64
		}
		return s + width
	}, limit)
}

// floorTo returns the largest s <= t with (s-offset) divisible by width.
func floorTo(t, width, offset int64) int64 {
	off := offset % width
	r := (t - off) % width
	if r < 0 {
		r += width
	}
	return t - r
}

// SlicesFunc enumerates slice starts from first while they are before end,
// stepping with next: for widths that are not fixed (a calendar day across
// a daylight-saving change lasts 23 or 25 hours) the operator passes its
// own time-zone-aware next. next must return a later time than it is given;
// if it does not, SlicesFunc stops with an error rather than loop.
func SlicesFunc(first, end int64, next func(int64) int64, limit int) (slices []int64, truncated bool, err error) {
	if limit <= 0 {
		limit = MaxFill
	}
	for s := first; s < end; {
		if len(slices) == limit {
			return slices, true, nil
		}
		slices = append(slices, s)
		n := next(s)
		if n <= s {
			return slices, false, fmt.Errorf("fillmissing: next slice after %d is %d, not later", s, n)
		}
		s = n
	}
	return slices, false, nil
}

// Missing returns the slices of all that are not in present, in the order
// of all. present need not be sorted and may hold slices outside all.
func Missing(all, present []int64) []int64 {
	have := make([]int64, len(present))
	copy(have, present)
	sort.Slice(have, func(i, j int) bool { return have[i] < have[j] })
	var miss []int64
	for _, s := range all {
		k := sort.Search(len(have), func(i int) bool { return have[i] >= s })
		if k < len(have) && have[k] == s {
			continue
		}
		miss = append(miss, s)
	}
	return miss
}

// MissingSlices is Slices followed by Missing: the timeslices of [start,
// end) that are not among present, and whether the enumeration was cut at
// limit.
func MissingSlices(present []int64, start, end, width, offset int64, limit int) (missing []int64, truncated bool, err error) {
	all, truncated, err := Slices(start, end, width, offset, limit)
	if err != nil {
		return nil, false, err
	}
	return Missing(all, present), truncated, nil
}
