package scoring

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
