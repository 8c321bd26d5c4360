"""calfeed's benchmark harness; run it with ``bash bench/run`` (see README,
"Performance and deployment")."""
