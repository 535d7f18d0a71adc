package executor

import (
	"bytes"

	"github.com/bestpatch/bestpatch/executor/outcome"
)

// Listing is the output of a command that lists files, one repository path
// a line (git ls-files). It is no test output: each line becomes a case that
// passes, so that the list travels in Result.Cases, uncapped, cached and
// stored like any result. The plan uses it to list a repository's test
// files before it chooses the related ones (selector's TestArgs.Related).
const Listing Format = "listing"

// listingFormat is internal: bestpatch's own listing runs use it, a task's
// test_format cannot.
var listingFormat = FormatSpec{
	Name:      Listing,
	Internal:  true,
	Runner:    "git ls-files",
	CaseID:    "a repository path",
	Doc:       "one repository path a line, each a passing case (not test output)",
	newParser: func() outputParser { return &listingParser{} },
}

// listingParser keeps every non-empty line, once.
type listingParser struct{ cases caseSet }

func (p *listingParser) line(line []byte, truncated bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || truncated {
		return
	}
	p.cases.add(toValidUTF8(line), outcome.Pass)
}

func (p *listingParser) finish() ([]Case, []string, error) { return p.cases.cases, nil, nil }
