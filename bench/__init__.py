"""fedgate's side-by-side benchmark: `make bench` or `python -m bench`."""
