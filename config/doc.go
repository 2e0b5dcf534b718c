// Package config holds Spinel's server configuration.
//
// Every option is declared once, in the table in options.go, modelled on
// static_configs[] in Redis's config.c: name, alias, flags, bounds, default
// and a typed field of Config. Startup defaults, the TOML file, the
// redis-server style command line, CONFIG GET/SET/REWRITE and INFO all walk
// that table, so an option cannot be known to one of them and not another.
//
// Values are parsed and printed as Redis 7.0 does, and errors carry Redis's
// exact texts, because clients and tests compare them byte for byte.
//
// A Config is owned by one goroutine (the executor); it has no locks.
package config
