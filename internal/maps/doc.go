// Package maps reads a running script's BPF maps as output values, one
// file per way the compiler stores a script map (compile.Map):
//
//   - hash.go: a hash map, per-CPU for aggregations (count, sum, min, max,
//     avg, stats), whose per-CPU values are combined;
//   - buckets.go: a keyed histogram (hist, lhist), a per-CPU hash whose
//     key is the script's key and a bucket index;
//   - arrayhist.go: a histogram without a key, kept in a plain array with
//     a stripe of buckets per CPU;
//   - slots.go: the count slots of a keyed count, added to its hash map;
//   - batch.go: how hash maps are read, in chunks of entries per system
//     call (BPF_MAP_LOOKUP_BATCH), or a key at a time where the kernel
//     has no batch operations.
//
// Counters kept in arrays are never reset by user space while probes
// increment them: the Reader remembers what it has reported of each, so
// taking a map (TakeMap, clear()) loses nothing that arrives meanwhile.
package maps
