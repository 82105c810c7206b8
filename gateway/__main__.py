"""`python -m gateway`: the fedgate command line."""

from gateway.cli import main

main(prog_name="fedgate")
