"""The processing trail of governed operations (hash-chained in issue 5)."""
