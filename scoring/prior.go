package scoring

import "fmt"

// Priors are reliability priors fitted on labelled runs: how often each
// model's candidates were correct, overall and per repository. A model that
// is right more often elsewhere is more likely right here; systems also
// differ by repository (one is strong on Django and weak on sympy).
//
// Of shrinks each rate toward a broader one with a number of pseudo
// candidates, so that a model seen a few times stays near the overall rate
// and a repository seen a few times stays near the model's rate:
//
//	overall = Correct / Total over every labelled candidate
//	model   = (correct_m + ModelStrength·overall) / (total_m + ModelStrength)
//	repo    = (correct_mr + RepoStrength·model) / (total_mr + RepoStrength)
//
// A model the table does not know gets the overall rate, so it neither
// gains nor loses against the others.
type Priors struct {
	// ModelStrength and RepoStrength are the pseudo counts of the shrinkage.
	ModelStrength float64 `json:"model_strength"`
	RepoStrength  float64 `json:"repo_strength"`
	// Overall counts every labelled candidate.
	Overall Tally `json:"overall"`
	// Models holds each model's counts, by model_name_or_path.
	Models map[string]ModelTally `json:"models"`
	// Source says what the table was fitted on (data sets, split).
	Source string `json:"source,omitempty"`
}

// Tally counts labelled candidates and the correct ones among them.
type Tally struct {
	Correct int `json:"correct"`
	Total   int `json:"total"`
}

// ModelTally is one model's counts, overall and by repository.
type ModelTally struct {
	Tally
	Repos map[string]Tally `json:"repos,omitempty"`
}

// Default shrinkage strengths. They were chosen on the dev splits of the
// SWE-bench Lite and Verified candidate sets with priors fitted out of fold
// (bestpatch eval --tune-priors, docs/SCORING.md); every repository
// strength from 4 to 16 scored within 0.5 points of the best mean there.
const (
	DefaultModelStrength = 1
	DefaultRepoStrength  = 8
)

// Labelled is one candidate with its label, as priors are fitted on.
type Labelled struct {
	Model   string
	Repo    string
	Correct bool
}

// FitPriors counts the labelled candidates, with the default strengths.
func FitPriors(samples []Labelled) *Priors {
	p := &Priors{ModelStrength: DefaultModelStrength, RepoStrength: DefaultRepoStrength, Models: map[string]ModelTally{}}
	for _, s := range samples {
		p.Overall.add(s.Correct)
		m := p.Models[s.Model]
		m.add(s.Correct)
		if s.Repo != "" {
			if m.Repos == nil {
				m.Repos = map[string]Tally{}
			}
			r := m.Repos[s.Repo]
			r.add(s.Correct)
			m.Repos[s.Repo] = r
		}
		p.Models[s.Model] = m
	}
	return p
}

func (t *Tally) add(correct bool) {
	t.Total++
	if correct {
		t.Correct++
	}
}

// Validate checks that the table can give priors: some labelled candidates,
// non-negative strengths, counts that add up.
func (p *Priors) Validate() error {
	if p.Overall.Total <= 0 {
		return fmt.Errorf("priors: no labelled candidate (overall total %d): fit them on labelled runs (bestpatch eval --fit-priors)", p.Overall.Total)
	}
	if p.ModelStrength < 0 || p.RepoStrength < 0 {
		return fmt.Errorf("priors: negative strength (model %g, repo %g)", p.ModelStrength, p.RepoStrength)
	}
	bad := func(t Tally) bool { return t.Correct < 0 || t.Total < 0 || t.Correct > t.Total }
	if bad(p.Overall) {
		return fmt.Errorf("priors: overall %d correct of %d", p.Overall.Correct, p.Overall.Total)
	}
	for name, m := range p.Models {
		if bad(m.Tally) {
			return fmt.Errorf("priors: model %q: %d correct of %d", name, m.Correct, m.Total)
		}
		for repo, r := range m.Repos {
			if bad(r) {
				return fmt.Errorf("priors: model %q, repository %q: %d correct of %d", name, repo, r.Correct, r.Total)
			}
		}
	}
	return nil
}

// Of is the prior of a candidate of model in repo (repo may be empty).
func (p *Priors) Of(model, repo string) float64 {
	overall := shrink(p.Overall, 0, 0)
	m, ok := p.Models[model]
	if !ok {
		return overall
	}
	rate := shrink(m.Tally, p.ModelStrength, overall)
	if r, ok := m.Repos[repo]; ok && repo != "" {
		rate = shrink(r, p.RepoStrength, rate)
	}
	return rate
}

// shrink is (correct + strength·toward) / (total + strength).
func shrink(t Tally, strength, toward float64) float64 {
	if float64(t.Total)+strength == 0 {
		return toward
	}
	return (float64(t.Correct) + strength*toward) / (float64(t.Total) + strength)
}

// Apply returns the candidates with Prior set from the table, for a task of
// the given repository; a candidate that already carries a prior keeps it.
// The input is not modified.
func (p *Priors) Apply(cands []Candidate, repo string) []Candidate {
	out := append([]Candidate(nil), cands...)
	for i := range out {
		if out[i].Prior == nil {
			v := p.Of(out[i].Model, repo)
			out[i].Prior = &v
		}
	}
	return out
}

// SignalPrior is the reliability prior of the producing model.
const SignalPrior Signal = "prior"

var priorSignal = SignalDef{Name: SignalPrior, Unit: "[0, 1]", unitScale: true, logOdds: true,
	Doc: "the reliability prior of the producing model: how often its candidates were correct on labelled runs, when the candidate carries one",
	value: func(s *Signals) (float64, bool) {
		if s.Prior == nil {
			return 0, false
		}
		return *s.Prior, true
	}}
