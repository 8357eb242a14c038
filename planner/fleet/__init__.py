"""Fleets: several runs on several sites over time (``planner schedule``): the fleet spec, each
run's options, the CP-SAT model, the solver-free check, the diagnosis of an infeasible fleet, the
schedule and its result."""
