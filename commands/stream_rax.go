package commands

import "encoding/binary"

// radixTreeNodes returns the number of nodes of the radix tree Redis would
// index this stream's nodes with (XINFO STREAM's radix-tree-nodes, Redis's
// rax->numnodes). The keys are the nodes' master IDs as 16 big-endian bytes.
//
// Redis's rax keeps such a set of equal-length keys in a canonical shape:
// insertion splits compressed nodes exactly at the first differing byte and
// removal recompresses single-child chains. So the count follows from the
// key set alone: the root, one node per branching point, and below each
// branch one node per child, which is a compressed chain (plus the leaf
// below it) unless the child is itself a branch or a leaf.
func (s *stream) radixTreeNodes() int64 {
	if len(s.nodes) == 0 {
		return 1 // the empty root
	}
	keys := make([][16]byte, len(s.nodes))
	for i, n := range s.nodes {
		binary.BigEndian.PutUint64(keys[i][:8], n.master.ms)
		binary.BigEndian.PutUint64(keys[i][8:], n.master.seq)
	}
	return streamRaxCount(keys, 0)
}

// streamRaxCount counts the rax nodes of sorted distinct keys that share their
// first depth bytes, from the node that starts at depth.
func streamRaxCount(keys [][16]byte, depth int) int64 {
	if len(keys) == 1 {
		if depth == 16 {
			return 1 // the leaf itself
		}
		return 2 // a compressed chain, then the leaf
	}
	first, last := keys[0], keys[len(keys)-1]
	d := depth
	for first[d] == last[d] {
		d++
	}
	count := int64(1) // the branching node
	if d > depth {
		count++ // the chain that leads to it
	}
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j][d] == keys[i][d] {
			j++
		}
		count += streamRaxCount(keys[i:j], d+1)
		i = j
	}
	return count
}
