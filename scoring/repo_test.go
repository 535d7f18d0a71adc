package scoring

import "testing"

func TestRepoOf(t *testing.T) {
	for in, want := range map[string]string{
		"django__django-11099":             "django__django",
		"scikit-learn__scikit-learn-25570": "scikit-learn__scikit-learn",
		"plain":                            "plain",
		"-1":                               "-1",
	} {
		if got := RepoOf(in); got != want {
			t.Errorf("RepoOf(%q) = %q, want %q", in, got, want)
		}
	}
}
