// Package bolt is the embedded event store: one bbolt file, the default
// backend of zhaoshang (store URL bolt:PATH).
//
// Durability: an Append returns only after the bbolt transaction holding
// its events has committed, and bbolt fsyncs the data and then the meta page
// on every commit. A crash (kill -9, power loss) at any instant leaves the
// file at its last committed transaction: a valid prefix of the log in
// which every acknowledged append is present.
//
// Group commit: appends are queued to one writer goroutine that takes
// everything queued, decides and writes all of it in one transaction, and
// answers each append after that transaction's commit. The next group starts
// as soon as the commit returns, with whatever queued meanwhile, so
// concurrent appends share an fsync without waiting on a timer (bbolt's own
// Batch waits up to 10 ms). Expected versions and idempotency are checked
// against the state including the group's earlier appends, so of two
// appends racing at one version exactly one wins.
//
// Layout (format "1", kept in the meta bucket): the log bucket maps the
// global sequence number (8 bytes big-endian) to the event record
// (codec.go); a Position here is {seq, seq}. That is all a commit writes:
// the stream and event-id indexes are kept in memory, rebuilt from the log
// at Open (index.go explains why).
//
// Reads copy events out of bbolt's memory map in bounded chunks per read
// transaction, so a reader never holds the writer off for long. Subscribe
// is eventstore.Follow, woken after every committed group and polling as a
// fallback.
package bolt
