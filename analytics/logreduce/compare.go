package logreduce

import (
	"errors"
	"math"
	"slices"
	"strings"
)

// LogCompare support: mine a baseline and a target, and say which
// signatures are new, gone, more or less frequent, and how much that matters.
//
// Both sides are clustered together (their states are merged, and the
// templates are mined from the union), so that one template gets one cluster
// and one id even when one side alone would have kept a variable constant
// (a host name seen once in the baseline, many in the target). Each joint
// cluster's count is then split back by side through its skeletons.

// Status is the kind of change of a signature.
type Status int

const (
	StatusSame Status = iota // the same share of lines on both sides
	StatusMore               // a larger share of the target than of the baseline
	StatusLess               // a smaller share
	StatusNew                // only in the target
	StatusGone               // only in the baseline
)

func (s Status) String() string {
	switch s {
	case StatusMore:
		return "more"
	case StatusLess:
		return "less"
	case StatusNew:
		return "new"
	case StatusGone:
		return "gone"
	}
	return "same"
}

// Change is the comparison of one signature.
type Change struct {
	// Cluster is the joint signature (template, id, samples of both sides).
	// Its Count is the sum of both sides.
	Cluster *Cluster
	Status  Status
	// BaselineCount and TargetCount are the lines of each side.
	BaselineCount, TargetCount int64
	// BaselineShare and TargetShare are the fractions of each side's lines.
	BaselineShare, TargetShare float64
	// DeltaPercentage is the change of the signature's share of the logs,
	// (target% - baseline%) / baseline% * 100: +Inf for a new signature,
	// -100 for a gone one (Sumo Logic's _deltaPercentage).
	DeltaPercentage float64
	// AnomalyScore is the signature's term of the symmetric Kullback-Leibler
	// divergence (Jeffreys divergence) between the baseline and target
	// distributions over signatures: (t - b) * ln(t / b) with t and b the
	// smoothed shares. It is never negative, and grows with both the size
	// of the change and the share it concerns; the sum over signatures is
	// the divergence of the two sides (Comparison.Divergence).
	AnomalyScore float64
}

// Comparison is the result of Compare.
type Comparison struct {
	// Changes, the change that matters most first: by AnomalyScore, then by
	// the absolute change of share, then by ID.
	Changes []*Change
	// BaselineLines and TargetLines are the lines of each side.
	BaselineLines, TargetLines int64
	// Divergence is the symmetric KL divergence of the two distributions.
	Divergence float64
	// Result is the joint clustering, to assign lines of either side.
	Result *Result
}

// compareSmoothing is the pseudo-count added to every signature on both
// sides, so that new and gone signatures have finite scores that grow with
// their count.
const compareSmoothing = 0.5

// Compare compares the target with the baseline. Neither miner is changed.
// Both must have the same configuration.
func Compare(baseline, target *Miner) (*Comparison, error) {
	if baseline == nil || target == nil {
		return nil, errors.New("logreduce: compare needs a baseline and a target")
	}
	if baseline.cfg != target.cfg {
		return nil, errors.New("logreduce: cannot compare miners with different configurations")
	}
	// The joint state holds all skeletons of both sides: its cap is the sum.
	cfg := baseline.cfg
	cfg.MaxSkeletons = baseline.cfg.MaxSkeletons + target.cfg.MaxSkeletons
	joint := New(cfg)
	for _, src := range []*Miner{baseline, target} {
		o := src.Clone()
		o.cfg = cfg
		if err := joint.Merge(o); err != nil {
			return nil, err
		}
	}
	res := joint.Result()
	cmp := &Comparison{BaselineLines: baseline.lines, TargetLines: target.lines, Result: res}
	k := float64(len(res.Clusters))
	bTotal := float64(baseline.lines) + compareSmoothing*k
	tTotal := float64(target.lines) + compareSmoothing*k
	for _, c := range res.Clusters {
		ch := &Change{Cluster: c}
		if c.Overflow {
			ch.BaselineCount, ch.TargetCount = baseline.overflow, target.overflow
		} else {
			for _, sk := range c.skels {
				if s := baseline.skels[sk.key]; s != nil {
					ch.BaselineCount += s.count
				}
				if s := target.skels[sk.key]; s != nil {
					ch.TargetCount += s.count
				}
			}
		}
		if baseline.lines > 0 {
			ch.BaselineShare = float64(ch.BaselineCount) / float64(baseline.lines)
		}
		if target.lines > 0 {
			ch.TargetShare = float64(ch.TargetCount) / float64(target.lines)
		}
		switch {
		case ch.BaselineCount == 0 && ch.TargetCount > 0:
			ch.Status, ch.DeltaPercentage = StatusNew, math.Inf(1)
		case ch.TargetCount == 0 && ch.BaselineCount > 0:
			ch.Status, ch.DeltaPercentage = StatusGone, -100
		case ch.BaselineCount == 0:
			ch.Status = StatusSame
		default:
			ch.DeltaPercentage = (ch.TargetShare - ch.BaselineShare) / ch.BaselineShare * 100
			switch {
			case ch.TargetShare > ch.BaselineShare:
				ch.Status = StatusMore
			case ch.TargetShare < ch.BaselineShare:
				ch.Status = StatusLess
			}
		}
		pb := (float64(ch.BaselineCount) + compareSmoothing) / bTotal
		pt := (float64(ch.TargetCount) + compareSmoothing) / tTotal
		ch.AnomalyScore = (pt - pb) * math.Log(pt/pb)
		cmp.Divergence += ch.AnomalyScore
		cmp.Changes = append(cmp.Changes, ch)
	}
	slices.SortStableFunc(cmp.Changes, func(a, b *Change) int {
		if a.AnomalyScore != b.AnomalyScore {
			if a.AnomalyScore > b.AnomalyScore {
				return -1
			}
			return 1
		}
		da, db := math.Abs(a.TargetShare-a.BaselineShare), math.Abs(b.TargetShare-b.BaselineShare)
		if da != db {
			if da > db {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Cluster.ID, b.Cluster.ID)
	})
	return cmp, nil
}
