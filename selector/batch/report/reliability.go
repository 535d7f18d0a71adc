package report

import (
	"fmt"

	"github.com/bestpatch/bestpatch/bench/accuracy"
)

// reliabilityChart is a reliability diagram, drawn as inline SVG by the
// template: for each confidence bin with verdicts, a bar up to the bin's
// accuracy and a dot at its mean confidence, against the diagonal where
// confidence equals accuracy. Bars under the diagonal are overconfident.
type reliabilityChart struct {
	Size, Pad  int // plot side and margin, in pixels
	Width      int
	Height     int
	Bars       []reliabilityBar
	Ticks      []reliabilityTick
	Verdicts   int
	Brier, ECE string
	Mean, Acc  string
}

type reliabilityBar struct {
	X, W, Y, H int // the bar
	DotX, DotY int // mean confidence, accuracy
	Count      int // verdicts in the bin, printed above the bar
	Label      string
}

type reliabilityTick struct {
	Pos   int // offset from the plot's origin
	Label string
}

const (
	reliabilitySize = 300
	reliabilityPad  = 40
)

// newReliabilityChart lays out the diagram of a reliability; nil when it
// has no verdicts.
func newReliabilityChart(r *accuracy.Reliability) *reliabilityChart {
	if r == nil || r.Verdicts == 0 {
		return nil
	}
	s, pad := reliabilitySize, reliabilityPad
	c := &reliabilityChart{Size: s, Pad: pad, Width: s + 2*pad, Height: s + 2*pad, Verdicts: r.Verdicts,
		Brier: fmt.Sprintf("%.4f", r.Brier), ECE: fmt.Sprintf("%.4f", r.ECE), Mean: pct(r.MeanConfidence), Acc: pct(r.Accuracy)}
	px := func(f float64) int { return int(f*float64(s) + 0.5) }
	for _, b := range r.Bins {
		if b.Verdicts == 0 {
			continue
		}
		h := px(b.Accuracy)
		c.Bars = append(c.Bars, reliabilityBar{
			X: pad + px(b.Lo) + 1, W: px(b.Hi) - px(b.Lo) - 2, Y: pad + s - h, H: h,
			DotX: pad + px(b.MeanConfidence), DotY: pad + s - px(b.Accuracy), Count: b.Verdicts,
			Label: fmt.Sprintf("confidence %.1f-%.1f: %d verdicts, mean confidence %s, accuracy %s", b.Lo, b.Hi, b.Verdicts, pct(b.MeanConfidence), pct(b.Accuracy)),
		})
	}
	for i := 0; i <= 4; i++ {
		f := float64(i) / 4
		c.Ticks = append(c.Ticks, reliabilityTick{Pos: px(f), Label: fmt.Sprintf("%.2g", f)})
	}
	return c
}
