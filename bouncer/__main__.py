"""Run the bouncer command line as `python -m bouncer`."""

from bouncer.cli import main

main()
