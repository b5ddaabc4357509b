"""Calibrations: a purpose's threshold, measured on the population it serves."""
