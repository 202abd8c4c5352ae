package search

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sort"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
)

// segIDs keeps, for each segment of a scorch index, the segment's own
// number of each entry (id → local document number, or -1 if the segment
// does not hold it): for the segments of the index as opened, all of them,
// read while the bitmaps are built (seeder); for segments written since,
// those a window asked for. A segment never changes once written, so what
// it says of an id stays true while the segment is in use; which of its
// documents are deleted, and where its numbers start in a snapshot, are
// read from the snapshot at each search.
//
// Why: bleve's DocIDQuery looks every id up in the id dictionary of every
// segment (an FST walk each, on goroutines of its own), ≈ 1.5 µs per id
// and segment: 2 ms of CPU for a window of 600 entries in a 2-segment index
// at 100,000 entries, every search. Here an id costs a map read (the maps
// take 7–10 MiB and 0.3 s of CPU at open, 100,000 entries).
type segIDs struct {
	mu       sync.Mutex
	segs     map[any]map[string]int32 // segment.Segment → id → local number
	complete map[any]bool             // segments whose every id is in segs (seeded)
}

func newSegIDs() *segIDs {
	return &segIDs{segs: map[any]map[string]int32{}, complete: map[any]bool{}}
}

// seeder records what reading every entry of snap taught (bitmapIndex.rebuild
// reads each entry's internal and external id anyway): afterwards an id a
// seeded segment does not know is one it does not hold, and no window
// entry costs a lookup until the segments change. seed is called with
// every live entry; done marks the seeded segments complete.
type seeder struct {
	c       *segIDs
	segs    []any
	offsets []uint64
	maps    []map[string]int32
}

func (c *segIDs) seeder(snap *scorch.IndexSnapshot) *seeder {
	s := &seeder{c: c}
	var base uint64
	for _, ss := range snap.Segments() {
		s.segs = append(s.segs, ss.Segment())
		s.offsets = append(s.offsets, base)
		s.maps = append(s.maps, map[string]int32{})
		base += ss.Segment().Count()
	}
	return s
}

func (s *seeder) seed(iid []byte, id string) {
	if len(iid) != 8 {
		return
	}
	n := binary.BigEndian.Uint64(iid)
	i := sort.Search(len(s.offsets), func(i int) bool { return s.offsets[i] > n }) - 1
	if i < 0 {
		return
	}
	s.maps[i][id] = int32(n - s.offsets[i])
}

func (s *seeder) done() {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for i, seg := range s.segs {
		if len(s.maps[i]) <= maxSegIDs {
			s.c.segs[seg] = s.maps[i]
			s.c.complete[seg] = true
		}
	}
}

// maxSegIDs bounds the ids remembered per segment; past it, the segment's
// map is started afresh (a window is a few hundred ids).
const maxSegIDs = 200_000

// internalIDs is the internal ids, ascending, of the entries ids that snap
// holds (deleted ones left out): what DocIDReaderOnly(ids) enumerates.
func (c *segIDs) internalIDs(snap *scorch.IndexSnapshot, ids []string) ([]index.IndexInternalID, error) {
	iids, _, err := c.internalIDsAt(snap, ids)
	return iids, err
}

// internalIDsAt is internalIDs and, for each, its id's index in ids.
func (c *segIDs) internalIDsAt(snap *scorch.IndexSnapshot, ids []string) ([]index.IndexInternalID, []int32, error) {
	segs := snap.Segments()
	c.mu.Lock()
	defer c.mu.Unlock()
	// Forget segments this snapshot does not have (merged away, or of an
	// index Reset replaced): bleve does not reuse them, and a search still
	// reading an older snapshot only loses the shortcut for the segments
	// written since.
	live := make(map[any]bool, len(segs))
	for _, ss := range segs {
		live[ss.Segment()] = true
	}
	for s := range c.segs {
		if !live[s] {
			delete(c.segs, s)
			delete(c.complete, s)
		}
	}
	type num struct {
		n  uint64
		at int32
	}
	nums := make([]num, 0, len(ids))
	var base uint64
	for _, ss := range segs {
		seg := ss.Segment()
		m := c.segs[seg]
		if m == nil || len(m) > maxSegIDs {
			m = make(map[string]int32, len(ids))
			c.segs[seg] = m
			delete(c.complete, seg)
		}
		complete := c.complete[seg]
		deleted := ss.Deleted()
		for at, id := range ids {
			local, ok := m[id]
			if !ok && complete {
				local, ok = -1, true
			}
			if !ok {
				bm, err := seg.DocNumbers([]string{id})
				if err != nil {
					return nil, nil, err
				}
				local = -1
				if !bm.IsEmpty() {
					local = int32(bm.Minimum())
				}
				m[id] = local
			}
			if local < 0 || (deleted != nil && deleted.Contains(uint32(local))) {
				continue
			}
			nums = append(nums, num{base + uint64(local), int32(at)})
		}
		// Scorch numbers a snapshot's documents segment after segment,
		// each from the end of the one before, deleted ones included.
		base += seg.Count()
	}
	// An id is live in at most one segment, so no number repeats.
	slices.SortFunc(nums, func(a, b num) int { return cmp.Compare(a.n, b.n) })
	out := make([]index.IndexInternalID, len(nums))
	at := make([]int32, len(nums))
	buf := make([]byte, 8*len(nums))
	for i, n := range nums {
		b := buf[8*i : 8*i+8 : 8*i+8]
		binary.BigEndian.PutUint64(b, n.n)
		out[i], at[i] = b, n.at
	}
	return out, at, nil
}
