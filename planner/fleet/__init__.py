"""Fleets: several runs on several sites over time (``planner schedule``): the fleet spec, the
CP-SAT model, the solver-free check and the schedule."""
