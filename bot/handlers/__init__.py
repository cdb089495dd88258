"""One Router per topic."""
