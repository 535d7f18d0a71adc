package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bestpatch/bestpatch/scoring"
	"github.com/bestpatch/bestpatch/selector/batch"
)

// Files a report directory holds.
const (
	HTMLFile = "index.html"
	JSONFile = "report.json"
)

// openAtMost is the number of instances up to which every instance is shown
// open (its heat map drawn) when the page loads; larger batches start
// collapsed and draw a heat map when its instance is opened.
const openAtMost = 25

var (
	//go:embed page.html.tmpl
	pageTemplate string
	//go:embed page.css
	pageCSS string
	//go:embed heatmap.js
	pageJS string
	//go:embed index.js
	indexJS string

	page = template.Must(template.New("page").Funcs(template.FuncMap{
		"pct":     pct,
		"seconds": func(s float64) string { return roundSeconds(s) },
		// cell is a signal's cell in the ranking table ("–" when absent).
		"cell": func(d scoring.SignalDef, s scoring.Signals) string {
			if c := d.Cell(s); c != "-" {
				return c
			}
			return "–"
		},
		"label": func(b *bool) string {
			switch {
			case b == nil:
				return ""
			case *b:
				return "yes"
			}
			return "no"
		},
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
		"sub":  func(a, b int) int { return a - b },
		"div":  func(a, b int) int { return a / b },
		"status": func(s batch.Status) string {
			return strings.ReplaceAll(string(s), "_", " ")
		},
		"patchLines": patchLines,
	}).Parse(pageTemplate))
)

func roundSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// patchLine is one line of a diff with its kind, for coloring.
type patchLine struct {
	Class, Text string
}

func patchLines(patch string) []patchLine {
	var out []patchLine
	for _, l := range strings.Split(strings.TrimRight(patch, "\n"), "\n") {
		class := ""
		switch {
		case strings.HasPrefix(l, "diff "), strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "):
			class = "file"
		case strings.HasPrefix(l, "@@"):
			class = "hunk"
		case strings.HasPrefix(l, "+"):
			class = "add"
		case strings.HasPrefix(l, "-"):
			class = "del"
		}
		out = append(out, patchLine{Class: class, Text: l})
	}
	return out
}

// HTML renders the report page.
func HTML(d Data) ([]byte, error) {
	var failed []Instance
	for _, in := range d.Instances {
		if in.Status == batch.Failed {
			failed = append(failed, in)
		}
	}
	var buf bytes.Buffer
	err := page.Execute(&buf, struct {
		Data        Data
		CSS         template.CSS
		JS          template.JS
		IndexJS     template.JS
		Columns     []scoring.SignalDef
		Chart       *chart
		Reliability *reliabilityChart
		Failed      []Instance
		Open        bool
	}{d, template.CSS(pageCSS), template.JS(pageJS), template.JS(indexJS), scoring.TableSignals(), newChart(d.Summary), reliabilityOf(d.Summary), failed, len(d.Instances) <= openAtMost})
	if err != nil {
		return nil, fmt.Errorf("render the report: %w", err)
	}
	return buf.Bytes(), nil
}

// Write writes the report into dir (created if needed): index.html, a page
// that needs nothing but a browser, and report.json with the same data.
func Write(dir string, d Data) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory: %w (choose another --report)", err)
	}
	html, err := HTML(d)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("report.json: %w", err)
	}
	for name, b := range map[string][]byte{HTMLFile: html, JSONFile: append(js, '\n')} {
		if err := writeFile(filepath.Join(dir, name), b); err != nil {
			return err
		}
	}
	return nil
}

// writeFile replaces path atomically, so that a browser reloading the page
// mid-write never sees half of it.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write the report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

func reliabilityOf(s *batch.Summary) *reliabilityChart {
	if s == nil {
		return nil
	}
	return newReliabilityChart(s.Calibration)
}
