"""Run the bouncer command line as `python -m bouncer`."""

from bouncer.entry import run

run()
