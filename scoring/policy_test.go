package scoring

import (
	"strings"
	"testing"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

func TestParsePolicy(t *testing.T) {
	for _, name := range PolicyNames() {
		p, err := ParsePolicy(name)
		if err != nil {
			t.Fatalf("built-in %q: %v", name, err)
		}
		if p.Name != name || p.Doc == "" {
			t.Errorf("built-in %q: name %q doc %q", name, p.Name, p.Doc)
		}
	}
	if PolicyNames()[0] != PolicyAuto {
		t.Errorf("PolicyNames()[0] = %q, want the default %q", PolicyNames()[0], PolicyAuto)
	}
	if p, err := ParsePolicy(""); err != nil || p.Name != PolicyAuto {
		t.Errorf(`ParsePolicy("") = %q, %v; want auto`, p.Name, err)
	}
	spec := `{"name":"mine","filters":[{"signal":"regressions","keep":"best"}],"keys":[{"signal":"fppp"},{"weights":{"similarity":1,"votes":0.5}}]}`
	p, err := ParsePolicy(spec)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "mine" || len(p.Filters) != 1 || len(p.Keys) != 2 || p.Keys[1].Weights[SignalVotes] != 0.5 {
		t.Errorf("spec read as %+v", p)
	}
	if got := p.Keys[1].String(); got != "1·similarity + 0.5·votes" {
		t.Errorf("key name %q", got)
	}

	bad := map[string]string{
		"unknown name":          "best-of-all",
		"unknown signal":        `{"keys":[{"signal":"charisma"}]}`,
		"unknown weight":        `{"keys":[{"weights":{"charisma":1}}]}`,
		"signal and weights":    `{"keys":[{"signal":"votes","weights":{"votes":1}}]}`,
		"neither":               `{"keys":[{}]}`,
		"no keys or filters":    `{"name":"x"}`,
		"bad keep":              `{"filters":[{"signal":"votes","keep":"most"}],"keys":[{"signal":"votes"}]}`,
		"fraction out of range": `{"filters":[{"signal":"verifier","keep":"top","fraction":1.5}],"keys":[{"signal":"votes"}]}`,
		"unknown field":         `{"keys":[{"signal":"votes"}],"wieghts":{}}`,
		"not JSON":              `{"keys":`,
	}
	for name, spec := range bad {
		if _, err := ParsePolicy(spec); err == nil {
			t.Errorf("%s: %s parsed", name, spec)
		}
	}
}

// TestAutoFollowsTheSignals checks which ordering auto picks for each mix of
// signals, and that a job with neither tests nor verifier still gets an
// answer.
func TestAutoFollowsTheSignals(t *testing.T) {
	gen := map[string]map[string]outcome.Outcome{"g": cases("r=FAIL"), "suite": cases("p=PASS")}
	matrix := &Matrix{
		Artifacts: []Artifact{{ID: "g", Generated: true}, {ID: "suite"}},
		Base:      okRow(gen),
		Candidates: map[string]Row{
			"a": okRow(map[string]map[string]outcome.Outcome{"g": cases("r=PASS"), "suite": cases("p=FAIL")}),
			"b": okRow(map[string]map[string]outcome.Outcome{"g": cases("r=PASS"), "suite": cases("p=PASS")}),
			"c": okRow(map[string]map[string]outcome.Outcome{"g": cases("r=FAIL"), "suite": cases("p=PASS")}),
		},
	}
	cands := func(verifier bool) []Candidate {
		var cs []Candidate
		for i, id := range []string{"a", "b", "c"} {
			c := Candidate{ID: id, Patch: onePatch(i)}
			if verifier {
				c.Verifier = ptr([]float64{0.9, 0.5, 0.99}[i])
			}
			cs = append(cs, c)
		}
		return cs
	}
	tests := []struct {
		name     string
		matrix   *Matrix
		verifier bool
		note     string
		chosen   string
	}{
		// a breaks the suite, c does not fix: b.
		{"tests and verifier", matrix, true, "R2E-Gym hybrid", "b"},
		{"tests only", matrix, false, "fewest regressions, then FP/PP", "b"},
		// No tests: the verifier's top half (at least 3: all), then consensus,
		// which cannot tell three unrelated one-liners apart, then verifier.
		{"verifier only", nil, true, "top half by verifier", "c"},
		{"neither", nil, false, "execution-free consensus", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Score(Input{Candidates: cands(tt.verifier), Matrix: tt.matrix}, mustPolicy(t, PolicyAuto))
			if err != nil {
				t.Fatal(err)
			}
			if !anyContains(v.Notes, "auto: ") || !anyContains(v.Notes, tt.note) {
				t.Errorf("notes %q lack %q", v.Notes, tt.note)
			}
			if v.Chosen != tt.chosen {
				t.Errorf("chosen %q, want %q; why: %s", v.Chosen, tt.chosen, v.Why)
			}
			if v.Policy != PolicyAuto {
				t.Errorf("verdict policy %q", v.Policy)
			}
		})
	}
}

func TestR2EHybridOrder(t *testing.T) {
	// Six candidates: the verifier keeps the top half (3); among those the
	// fewest regressions, then the highest FP/PP, then the verifier decide.
	base := okRow(map[string]map[string]outcome.Outcome{"g": cases("r1=FAIL", "r2=FAIL"), "suite": cases("p=PASS")})
	row := func(r1, r2, p string) Row {
		return okRow(map[string]map[string]outcome.Outcome{"g": cases("r1="+r1, "r2="+r2), "suite": cases("p=" + p)})
	}
	m := &Matrix{
		Artifacts: []Artifact{{ID: "g", Generated: true}, {ID: "suite"}},
		Base:      base,
		Candidates: map[string]Row{
			"best-exec-low-verifier": row("PASS", "PASS", "PASS"), // dropped by the verifier filter
			"top-regresses":          row("PASS", "PASS", "FAIL"),
			"half-fix":               row("PASS", "FAIL", "PASS"),
			"full-fix":               row("PASS", "PASS", "PASS"),
			"low1":                   row("FAIL", "FAIL", "PASS"),
			"low2":                   row("FAIL", "FAIL", "PASS"),
		},
	}
	verifier := map[string]float64{"best-exec-low-verifier": 0.1, "top-regresses": 0.95, "half-fix": 0.9, "full-fix": 0.8, "low1": 0.2, "low2": 0.3}
	var cands []Candidate
	i := 0
	for id, s := range verifier {
		cands = append(cands, Candidate{ID: id, Patch: onePatch(i), Verifier: ptr(s)})
		i++
	}
	v, err := Score(Input{Candidates: cands, Matrix: m}, mustPolicy(t, PolicyR2EHybrid))
	if err != nil {
		t.Fatal(err)
	}
	if v.Chosen != "full-fix" {
		t.Errorf("chosen %q, want full-fix; why: %s", v.Chosen, v.Why)
	}
	for _, r := range v.Ranking {
		if r.ID == "best-exec-low-verifier" && !strings.Contains(r.Out, "verifier") {
			t.Errorf("best-exec-low-verifier out %q, want filtered by verifier", r.Out)
		}
	}
}
