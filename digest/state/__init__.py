"""The state database: what digest remembers between runs and shares between processes.

One database (`DIGEST_STATE_URL`: SQLite beside the issues folder by default, or PostgreSQL) holds
the ledger (one row per issue and subscriber with its outcome), the sends, the scheduler's runs and
jobs, and the scheduler's lock. Its modules:

- `engine`: the URL, opening (SQLite pragmas, the PostgreSQL driver), migrating on open;
- `schema`: the tables as the code reads and writes them today;
- `migrations`: the named migration functions that build that schema, in one registry;
- `ledger`: deliveries and their outcomes;
- `lock`: one scheduler per database.
"""
