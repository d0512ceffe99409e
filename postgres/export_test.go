package postgres

// SearchVectors exposes searchVectors to the benchmarks' bulk seeding.
var SearchVectors = searchVectors

// MigrationFS is the embedded migrations, for the test that they are all recorded.
var MigrationFS = migrationFS
