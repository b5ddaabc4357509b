"""Purposes of processing, their notices (R6) and impact assessments (R14)."""
