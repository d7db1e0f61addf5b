package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

// TamperData flips one byte of the stored data of the event at (stream,
// version) directly in the file, bypassing the Store, as someone with access
// to the file would. It flips an ASCII letter's lowest bit where it finds one,
// so the data stays valid JSON and only the hash can tell.
func TamperData(s *Store, stream string, version uint64) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		seq := s.index.seqOf(stream, version)
		if seq == 0 {
			return fmt.Errorf("no event %s v%d", stream, version)
		}
		key := seqKey(seq)
		rec := append([]byte(nil), tx.Bucket(bucketLog).Get(key)...)
		off, err := dataOffset(rec)
		if err != nil {
			return err
		}
		at := off + (len(rec)-off)/2
		for i := off; i < len(rec); i++ {
			if c := rec[i] | 0x20; c >= 'b' && c <= 'y' {
				at = i
				break
			}
		}
		rec[at] ^= 0x01
		return tx.Bucket(bucketLog).Put(key, rec)
	})
}

// DB exposes the bbolt handle to the benchmarks' raw-cursor ceiling.
func DB(s *Store) *bbolt.DB { return s.db }
