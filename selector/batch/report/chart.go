package report

import (
	"fmt"

	"github.com/bestpatch/bestpatch/bench/accuracy"

	"github.com/bestpatch/bestpatch/selector/batch"
)

// chart is the summary's bar chart, drawn as inline SVG by the template:
// one horizontal bar per method (the batch's choice, the baselines, every
// policy, the oracle) with the random pick and the oracle as reference
// lines across, so each policy reads against both at a glance.
type chart struct {
	Width, Height int
	// PlotX and PlotW place the plot area right of the labels.
	PlotX, PlotW int
	Bars         []chartBar
	Ticks        []chartTick
	Refs         []chartRef
}

type chartBar struct {
	Label string
	Kind  string
	Y     int
	W     int
	Value string
}

type chartTick struct {
	X     int
	Label string
}

type chartRef struct {
	Name  string
	X     int
	Value string
}

const (
	chartBarHeight = 18
	chartGap       = 8
	chartTop       = 28
	chartLabelW    = 230
	chartPlotW     = 520
)

// newChart lays out the chart of a summary; nil when there is nothing to
// draw.
func newChart(s *batch.Summary) *chart {
	if s == nil || s.Pools == 0 {
		return nil
	}
	c := &chart{PlotX: chartLabelW, PlotW: chartPlotW, Width: chartLabelW + chartPlotW + 70}
	x := func(acc float64) int { return int(acc*float64(chartPlotW) + 0.5) }
	y := chartTop
	for _, r := range s.Rows {
		switch r.Kind {
		case accuracy.KindSignal:
			continue
		case accuracy.KindBaseline, accuracy.KindOracle:
			if r.Method == accuracy.MethodRandom || r.Kind == accuracy.KindOracle {
				c.Refs = append(c.Refs, chartRef{Name: r.Method, X: chartLabelW + x(r.Accuracy), Value: pct(r.Accuracy)})
			}
		}
		c.Bars = append(c.Bars, chartBar{Label: r.Method, Kind: r.Kind, Y: y, W: max(x(r.Accuracy), 1), Value: pct(r.Accuracy)})
		y += chartBarHeight + chartGap
	}
	c.Height = y + 10
	for i := 0; i <= 4; i++ {
		f := float64(i) / 4
		c.Ticks = append(c.Ticks, chartTick{X: chartLabelW + x(f), Label: fmt.Sprintf("%d%%", 25*i)})
	}
	return c
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
