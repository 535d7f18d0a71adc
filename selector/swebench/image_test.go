package swebench

import "testing"

func TestImageName(t *testing.T) {
	cases := []struct {
		images Images
		id     string
		want   string
	}{
		// The published images, as the harness names them.
		{DefaultImages, "django__django-11099", "swebench/sweb.eval.x86_64.django_1776_django-11099:latest"},
		{DefaultImages, "scikit-learn__scikit-learn-10297", "swebench/sweb.eval.x86_64.scikit-learn_1776_scikit-learn-10297:latest"},
		{DefaultImages, "sympy__sympy-20590", "swebench/sweb.eval.x86_64.sympy_1776_sympy-20590:latest"},
		// Lowercased instance ID; namespace and tag are kept as given.
		{Images{Namespace: "Mirror", Arch: "x86_64", Tag: "V1"}, "Owner__Repo-7", "Mirror/sweb.eval.x86_64.owner_1776_repo-7:V1"},
		// Locally built images: no namespace, "__" kept.
		{Images{Namespace: "", Arch: "x86_64", Tag: "latest"}, "django__django-11099", "sweb.eval.x86_64.django__django-11099:latest"},
		{Images{Namespace: "none", Arch: "x86_64", Tag: "latest"}, "django__django-11099", "sweb.eval.x86_64.django__django-11099:latest"},
		// arm64, except where the harness pins x86_64 (USE_X86).
		{Images{Namespace: "swebench", Arch: "arm64", Tag: "latest"}, "sympy__sympy-20590", "swebench/sweb.eval.arm64.sympy_1776_sympy-20590:latest"},
		{Images{Namespace: "swebench", Arch: "arm64", Tag: "latest"}, "sympy__sympy-12812", "swebench/sweb.eval.x86_64.sympy_1776_sympy-12812:latest"},
		{Images{Namespace: "swebench", Arch: "arm64", Tag: "latest"}, "django__django-15781", "swebench/sweb.eval.x86_64.django_1776_django-15781:latest"},
		{Images{Namespace: "swebench", Arch: "arm64", Tag: "latest"}, "scikit-learn__scikit-learn-3840", "swebench/sweb.eval.x86_64.scikit-learn_1776_scikit-learn-3840:latest"},
		{Images{Namespace: "swebench", Arch: "arm64", Tag: "latest"}, "django__django-1578", "swebench/sweb.eval.arm64.django_1776_django-1578:latest"},
	}
	for _, c := range cases {
		if got := c.images.ImageName(c.id); got != c.want {
			t.Errorf("%+v %s: %q, want %q", c.images, c.id, got, c.want)
		}
	}
}

func TestImagesValidate(t *testing.T) {
	for _, bad := range []Images{
		{Namespace: "swebench", Arch: "amd64", Tag: "latest"},
		{Namespace: "swebench", Arch: "x86_64", Tag: ""},
		{Namespace: "swebench", Arch: "x86_64", Tag: "a:b"},
		{Namespace: "a b", Arch: "x86_64", Tag: "latest"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
	if err := DefaultImages.Validate(); err != nil {
		t.Error(err)
	}
}
