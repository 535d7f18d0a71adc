package scoring

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// Clusters by effect. Two candidates that leave the same tree are the same
// candidate, whatever their text: the executor reports the tree each run's
// candidate left once applied, test files stripped (Row.Tree), and a
// candidate's cluster is the union of its meaning cluster and of every
// candidate with the same tree, transitively. So a fix whose context drifted
// (applied by patch --fuzz) joins the fix it lands as, and through it that
// fix's renamed twins. Without a tree (nothing ran, or the run failed) the
// meaning cluster stands alone.

// treeNode prefixes a tree's node among the meaning keys (hex digests).
const treeNode = "tree "

// effectClusters returns each view's cluster key: its meaning cluster,
// merged with the clusters of every view with the same tree. A merged
// cluster is named by the smallest meaning key it holds, so the key does
// not depend on the input order.
func effectClusters(views []view, trees map[string]string) []string {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	// Joining a meaning key m to a tree's node: the root of the two that
	// names the merged cluster is the smaller meaning key (a tree's node,
	// alone, is no meaning key and never names one).
	join := func(m, tree string) {
		rm, rt := find(m), find(treeNode+tree)
		switch {
		case rm == rt:
		case rt == treeNode+tree || rm < rt:
			parent[rt] = rm
		default:
			parent[rm] = rt
		}
	}
	for _, v := range views {
		if t := trees[v.id]; t != "" {
			join(v.cluster, t)
		}
	}
	keys := make([]string, len(views))
	for i, v := range views {
		keys[i] = find(v.cluster)
	}
	return keys
}

// EffectSignature summarizes what a patch does to the bytes of the tree,
// so that two patches whose signatures differ are known to leave different
// trees without running either: for each file, the lines it adds minus the
// lines it deletes, as multisets, with all whitespace removed. Wherever a
// patch lands (git apply, or patch --fuzz at another offset), the file it
// leaves holds the base's lines, less the lines it deleted, plus the lines
// it added; whitespace is removed because git apply --ignore-whitespace
// may delete a line that differs from the patch's in whitespace. So equal
// trees have equal signatures (the converse does not hold). A patch that
// renames, copies, changes a mode, holds a binary change, or does not parse
// into a file change gets "": it may leave any tree.
func EffectSignature(patch string) string {
	files, _, err := gitdiff.Parse(strings.NewReader(patch))
	if err != nil || len(files) == 0 {
		return ""
	}
	traditional := !isGitDiff(patch)
	net := map[string]map[string]int{}
	for _, f := range files {
		if f.IsBinary || f.IsRename || f.IsCopy || (f.OldMode != 0 && f.NewMode != 0 && f.OldMode != f.NewMode) {
			return ""
		}
		name := f.NewName
		if f.IsDelete {
			name = f.OldName
		}
		if traditional {
			name = stripFirstComponent(name)
		}
		d := net[name]
		if d == nil {
			d = map[string]int{}
			net[name] = d
		}
		for _, frag := range f.TextFragments {
			for _, l := range frag.Lines {
				line := strings.Map(dropSpace, l.Line)
				switch l.Op {
				case gitdiff.OpAdd:
					d[line]++
				case gitdiff.OpDelete:
					d[line]--
				}
			}
		}
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(net)) {
		d := net[name]
		lines := slices.Sorted(maps.Keys(d))
		wrote := false
		for _, l := range lines {
			if d[l] == 0 {
				continue
			}
			if !wrote {
				fmt.Fprintf(&b, "%q\n", name)
				wrote = true
			}
			fmt.Fprintf(&b, "%+d %q\n", d[l], l)
		}
	}
	return keyOf("effect\n" + b.String())
}

// dropSpace removes whitespace in strings.Map.
func dropSpace(r rune) rune {
	if unicode.IsSpace(r) {
		return -1
	}
	return r
}
