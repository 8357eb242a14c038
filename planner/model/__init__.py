"""The model floor: pure numpy formulas, each term with its source.

architecture (parameter counts, the shape rule), flops, memory, topology, collectives, step (one
training step over any number of layouts), search (layouts of a cluster and the best that fits),
reliability, power, cost, run (steady state to days, device-hours, MW, MWh, dollars) and
uncertainty. Nothing here knows of plans, tables or the command line.
"""
