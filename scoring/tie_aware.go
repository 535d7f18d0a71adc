package scoring

import "sort"

// ExpectedAccuracy is the tie-aware accuracy of one verdict: the chance that
// a uniform random pick among the tied top candidates (or the chosen one
// alone when there is no tie) is correct. correct says which candidate IDs
// are right. A verdict that chose nothing scores 0.
func ExpectedAccuracy(v Verdict, correct func(id string) bool) float64 {
	tied := v.Ties
	if len(tied) == 0 {
		if v.Chosen == "" {
			return 0
		}
		tied = []string{v.Chosen}
	}
	right := 0
	for _, id := range tied {
		if correct(id) {
			right++
		}
	}
	return float64(right) / float64(len(tied))
}

// AUC is the area under the ROC curve of a score against binary labels: the
// chance that a random positive scores higher than a random negative, ties
// counting one half (the Mann-Whitney statistic). ok is false when either
// class is empty, so the AUC is undefined.
func AUC(scores []float64, labels []bool) (auc float64, ok bool) {
	type pair struct {
		s float64
		l bool
	}
	ps := make([]pair, len(scores))
	pos := 0
	for i := range scores {
		ps[i] = pair{scores[i], labels[i]}
		if labels[i] {
			pos++
		}
	}
	neg := len(ps) - pos
	if pos == 0 || neg == 0 {
		return 0, false
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].s < ps[j].s })
	// Sum of the positives' mid-ranks, then U = R - pos(pos+1)/2.
	rankSum := 0.0
	for i := 0; i < len(ps); {
		j := i
		for j < len(ps) && ps[j].s == ps[i].s {
			j++
		}
		mid := float64(i+j+1) / 2 // 1-based ranks i+1..j
		for k := i; k < j; k++ {
			if ps[k].l {
				rankSum += mid
			}
		}
		i = j
	}
	u := rankSum - float64(pos*(pos+1))/2
	return u / float64(pos*neg), true
}
