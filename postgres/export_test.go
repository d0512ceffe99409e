package postgres

// SearchVectors exposes searchVectors to the benchmarks' bulk seeding.
var SearchVectors = searchVectors
