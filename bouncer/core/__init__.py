"""The pure core: bytes and values in, values out, the time always passed in (parsing,
classification, the deferral state machine, VERP tokens). No I/O."""
