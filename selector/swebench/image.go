package swebench

import (
	"fmt"
	"strconv"
	"strings"
)

// Images says how instance images are named: the harness's --namespace,
// architecture and --instance_image_tag.
type Images struct {
	// Namespace is the registry namespace of the published images; "" (or
	// "none", as the harness's flag spells it) names images built locally by
	// the harness, which carry no namespace and keep "__" in the ID.
	Namespace string
	// Arch is "x86_64" or "arm64".
	Arch string
	// Tag is the instance image tag.
	Tag string
}

// DefaultImages are the harness's defaults: the published x86_64 images.
var DefaultImages = Images{Namespace: "swebench", Arch: "x86_64", Tag: "latest"}

// Validate checks the image settings.
func (im Images) Validate() error {
	switch {
	case im.Arch != "x86_64" && im.Arch != "arm64":
		return fmt.Errorf("image architecture %q is not one the harness builds: use x86_64 or arm64", im.Arch)
	case im.Tag == "" || strings.ContainsAny(im.Tag, ":/ "):
		return fmt.Errorf("image tag %q is not a valid tag: use e.g. latest", im.Tag)
	case strings.ContainsAny(im.Namespace, ": "):
		return fmt.Errorf("image namespace %q is not valid: use e.g. swebench, or \"\" for locally built images", im.Namespace)
	}
	return nil
}

// ImageName names the instance image of an instance exactly as the harness
// does (TestSpec.instance_image_key): sweb.eval.<arch>.<instance_id
// lowercased>:<tag>, prefixed with the namespace when there is one, in
// which case every "__" in the whole name is written "_1776_" (Docker Hub
// repository names cannot hold "__"). Instances the harness pins to x86_64
// (its USE_X86 set) are x86_64 whatever the architecture asked for.
func (im Images) ImageName(instanceID string) string {
	arch := im.Arch
	if forcedX86(instanceID) {
		arch = "x86_64"
	}
	key := fmt.Sprintf("sweb.eval.%s.%s:%s", arch, strings.ToLower(instanceID), im.Tag)
	ns := im.Namespace
	if ns == "" || ns == "none" {
		return key
	}
	return strings.ReplaceAll(ns+"/"+key, "__", "_1776_")
}

// forcedX86 reports whether the harness builds an instance for x86_64 only
// (its USE_X86 set).
func forcedX86(instanceID string) bool {
	i := strings.LastIndexByte(instanceID, '-')
	if i < 0 {
		return false
	}
	n, err := strconv.Atoi(instanceID[i+1:])
	if err != nil {
		return false
	}
	for _, x := range useX86[instanceID[:i]] {
		if x == n {
			return true
		}
	}
	return false
}

// useX86 is the harness's USE_X86 set (constants/python.py USE_X86_PY),
// as instance numbers by instance prefix.
var useX86 = map[string][]int{
	"astropy__astropy": {7973},
	"django__django": {
		10087, 10097, 10213, 10301, 10316, 10426, 11383, 12185, 12497, 13121, 13417, 13431, 13447,
		14155, 14164, 14169, 14170, 15180, 15199, 15280, 15292, 15474, 15682, 15689, 15695, 15698,
		15781, 15925, 15930, 5158, 5470, 7188, 7475, 7530, 8326, 8961, 9003, 9703, 9871,
	},
	"matplotlib__matplotlib": {
		13983, 13984, 13989, 14043, 14471, 22711, 22719, 22734, 22767, 22815, 22835, 22865, 22871,
		22883, 22926, 22929, 22931, 22945, 22991, 23031, 23047, 23049, 23057, 23088, 23111, 23140,
		23174, 23188, 23198, 23203, 23266, 23267, 23288, 23299, 23314, 23332, 23348, 23412, 23476,
		23516, 23562, 23563, 23573, 23740, 23742, 23913, 23964, 23987, 24013, 24026, 24088, 24111,
		24149, 24177, 24189, 24224, 24250, 24257, 24265, 24334, 24362, 24403, 24431, 24538, 24570,
		24604, 24619, 24627, 24637, 24691, 24749, 24768, 24849, 24870, 24912, 24924, 24970, 24971,
		25027, 25052, 25079, 25085, 25122, 25126, 25129, 25238, 25281, 25287, 25311, 25332, 25334,
		25340, 25346, 25404, 25405, 25425, 25430, 25433, 25442, 25479, 25498, 25499, 25515, 25547,
		25551, 25565, 25624, 25631, 25640, 25651, 25667, 25712, 25746, 25772, 25775, 25779, 25785,
		25794, 25859, 25960, 26011, 26020, 26024, 26078, 26089, 26101, 26113, 26122, 26160, 26184,
		26208, 26223, 26232, 26249, 26278, 26285, 26291, 26300, 26311, 26341, 26342, 26399, 26466,
		26469, 26472, 26479, 26532,
	},
	"pydata__xarray": {
		2905, 2922, 3095, 3114, 3151, 3156, 3159, 3239, 3302, 3305, 3338, 3364, 3406, 3520, 3527,
		3631, 3635, 3637, 3649, 3677, 3733, 3812, 3905, 3976, 3979, 3993, 4075, 4094, 4098, 4182,
		4184, 4248, 4339, 4356, 4419, 4423, 4442, 4493, 4510, 4629, 4683, 4684, 4687, 4695, 4750,
		4758, 4759, 4767, 4802, 4819, 4827, 4879, 4911, 4939, 4940, 4966, 4994, 5033, 5126, 5131,
		5180, 5187, 5233, 5362, 5365, 5455, 5580, 5662, 5682, 5731, 6135, 6386, 6394, 6400, 6461,
		6548, 6598, 6599, 6601, 6721, 6744, 6798, 6804, 6823, 6857, 6882, 6889, 6938, 6971, 6992,
		6999, 7003, 7019, 7052, 7089, 7101, 7105, 7112, 7120, 7147, 7150, 7179, 7203, 7229, 7233,
		7347, 7391, 7393, 7400, 7444,
	},
	"pytest-dev__pytest": {10482},
	"scikit-learn__scikit-learn": {
		10198, 10297, 10306, 10331, 10377, 10382, 10397, 10427, 10428, 10443, 10452, 10459, 10471,
		10483, 10495, 10508, 10558, 10577, 10581, 10687, 10774, 10777, 10803, 10844, 10870, 10881,
		10899, 10908, 10913, 10949, 10982, 10986, 11040, 11042, 11043, 11151, 11160, 11206, 11235,
		11243, 11264, 11281, 11310, 11315, 11333, 11346, 11391, 11496, 11542, 11574, 11578, 11585,
		11596, 11635, 12258, 12421, 12443, 12462, 12471, 12486, 12557, 12583, 12585, 12625, 12626,
		12656, 12682, 12704, 12733, 12758, 12760, 12784, 12827, 12834, 12860, 12908, 12938, 12961,
		12973, 12983, 12989, 13010, 13013, 13017, 13046, 13087, 13124, 13135, 13142, 13143, 13157,
		13165, 13174, 13221, 13241, 13253, 13280, 13283, 13302, 13313, 13328, 13333, 13363, 13368,
		13392, 13436, 13439, 13447, 13454, 13467, 13472, 13485, 13496, 13497, 13536, 13549, 13554,
		13584, 13618, 13620, 13628, 13641, 13704, 13726, 13779, 13780, 13828, 13864, 13877, 13910,
		13915, 13933, 13960, 13974, 13983, 14012, 14024, 14053, 14067, 14087, 14092, 14114, 14125,
		14141, 14237, 14309, 14430, 14450, 14458, 14464, 14496, 14520, 14544, 14591, 14629, 14704,
		14706, 14710, 14732, 14764, 14806, 14869, 14878, 14890, 14894, 14898, 14908, 14983, 14999,
		15028, 15084, 15086, 15094, 15096, 15100, 15119, 15120, 15138, 15393, 15495, 15512, 15524,
		15535, 15625, 3840, 7760, 8554, 9274, 9288, 9304, 9775, 9939,
	},
	"sphinx-doc__sphinx": {11311, 7910},
	"sympy__sympy":       {12812, 14248, 15222, 19201},
}
