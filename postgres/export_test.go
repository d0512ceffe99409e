package postgres

// SearchVector exposes searchVector to the benchmarks' bulk seeding.
var SearchVector = searchVector
