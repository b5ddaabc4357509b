"""The filing duty (R17, R18): counting stored individuals, filing and change records."""
