package executor

// registry holds every test-output format, one line each. A new format is
// one file (its FormatSpec and parser) plus one line here; docs/FORMATS.md
// says how.
var registry = []*FormatSpec{
	&goJSONFormat,
	&pytestFormat,
	&junitFormat,
	&djangoFormat,
	&sympyFormat,
	&listingFormat,
}
